#pragma once

#include <sys/epoll.h>
#include <sys/types.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace ccmesh::worker {

class Session;

// The pipes of every awake session's CLI in one epoll set, so that the worker's loop polls
// three descriptors (broker socket, signals, this set) however many CLIs it runs. With
// poll() over every pipe, a worker hosting a few dozen CLIs spent a quarter of its CPU in
// the kernel checking descriptors that had nothing to say.
//
// Each loop round says what to watch: begin(), watch() for every descriptor, commit().
// Only changes reach the kernel. A descriptor that is closed leaves the set by itself; one
// reopened under the same number belongs to another CLI (another pid) and is added again.
class CliWatch {
 public:
  enum class Kind { kOutput, kErrors, kInput };
  struct Ready {
    Kind kind;
    Session* session;
  };

  // Throws std::system_error if the set cannot be created.
  CliWatch();
  ~CliWatch();
  CliWatch(const CliWatch&) = delete;
  CliWatch& operator=(const CliWatch&) = delete;

  // Readable when some watched descriptor is ready.
  int fd() const { return epoll_fd_; }

  void begin() { ++round_; }
  // Watches `fd` of `session`'s CLI `pid` for `events` (EPOLLIN or EPOLLOUT) this round.
  void watch(int fd, uint32_t events, Kind kind, Session& session, pid_t pid);
  // Stops watching what this round did not name.
  void commit();

  // The watched descriptors ready now; waits for nothing. Valid until the next call.
  const std::vector<Ready>& ready();

 private:
  struct Entry {
    Kind kind;
    Session* session;
    pid_t pid;
    uint32_t events;
    uint64_t round;
  };

  int epoll_fd_ = -1;
  uint64_t round_ = 0;
  std::unordered_map<int, Entry> entries_;  // fd -> what it is
  std::vector<epoll_event> events_;         // epoll_wait's buffer, kept between calls
  std::vector<Ready> ready_;                // see ready()
};

}  // namespace ccmesh::worker
