#include "group_keeper.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <set>
#include <stdexcept>

namespace ccmesh::worker {
namespace {

// One request on the pipe: add or remove a process group, or move the lease expiry.
struct KeeperRequest {
  int32_t op = 0;  // kWatch, kForget or kLease
  int32_t pad = 0;
  int64_t value = 0;  // the pgid, or the lease expiry in CLOCK_MONOTONIC nanoseconds
};

constexpr int32_t kWatch = 1;
constexpr int32_t kForget = 2;
constexpr int32_t kLease = 3;

int64_t monotonicNanos() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// How long poll() may wait for the next request before the lease expiry passes.
int waitMillis(int64_t expiry_ns) {
  if (expiry_ns == 0) return -1;
  const int64_t left = expiry_ns - monotonicNanos();
  if (left <= 0) return 0;
  return static_cast<int>(std::min<int64_t>((left + 999'999) / 1'000'000, 60'000));
}

}  // namespace

void GroupKeeper::start() {
  if (pipe_fd_ >= 0) return;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot create the keeper pipe");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot fork the process-group keeper");
  if (pid == 0) {
    ::close(fds[1]);
    keep(fds[0]);
  }
  ::close(fds[0]);
  pipe_fd_ = fds[1];
}

void GroupKeeper::watch(pid_t pgid) {
  if (pgid > 0) send(kWatch, pgid);
}

void GroupKeeper::forget(pid_t pgid) {
  if (pgid > 0) send(kForget, pgid);
}

void GroupKeeper::leaseUntil(int64_t expiry_ns) { send(kLease, std::max<int64_t>(expiry_ns, 0)); }

void GroupKeeper::send(int32_t op, int64_t value) {
  if (pipe_fd_ < 0) return;
  KeeperRequest request{op, 0, value};
  // Requests are far smaller than PIPE_BUF, so each write is atomic; the keeper reads them
  // as fast as CLIs start, so the pipe never fills in practice.
  while (::write(pipe_fd_, &request, sizeof request) < 0 && errno == EINTR) {
  }
}

void GroupKeeper::keep(int read_fd) {
  // Its own process group, so a signal to the worker's group (Ctrl-C in a terminal) does
  // not take the keeper down before the worker's CLIs.
  ::setpgid(0, 0);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) ::signal(sig, SIG_IGN);
  // Nothing of the worker's (sockets, CLI pipes) may stay open here, or the CLIs would not
  // see end of file when the worker dies.
  if (read_fd > 3) ::close_range(3, static_cast<unsigned>(read_fd) - 1, 0);
  ::close_range(static_cast<unsigned>(read_fd) + 1, ~0U, 0);
  std::set<pid_t> groups;
  int64_t lease_expiry = 0;  // 0: no lease to enforce
  KeeperRequest request;
  while (true) {
    pollfd item{read_fd, POLLIN, 0};
    const int ready = ::poll(&item, 1, waitMillis(lease_expiry));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      if (lease_expiry != 0 && monotonicNanos() >= lease_expiry) {
        // The worker did not renew its lease in time (frozen, or cut off and too slow to
        // fence itself): stop its CLIs so that no second copy of a name runs.
        for (pid_t pgid : groups) ::kill(-pgid, SIGKILL);
        groups.clear();
        lease_expiry = 0;
      }
      continue;
    }
    ssize_t n = ::read(read_fd, &request, sizeof request);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof request)) break;  // end of file: the worker is gone
    const auto pgid = static_cast<pid_t>(request.value);
    if (request.op == kWatch) groups.insert(pgid);
    if (request.op == kForget) groups.erase(pgid);
    if (request.op == kLease) lease_expiry = request.value;
  }
  for (pid_t pgid : groups) ::kill(-pgid, SIGKILL);
  ::_exit(0);
}

}  // namespace ccmesh::worker
