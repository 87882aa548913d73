#pragma once

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::monitoring {

// Lets other threads (the HTTP endpoint's) have a job run on an event loop's thread, which
// owns every table: they post a job and wait for its answer; the loop polls fd() and runs
// what is posted between two waits. A loop that does not come round within the asker's
// wait is reported as such (no answer), never waited for without end.
class LoopMailbox {
 public:
  // Throws std::runtime_error if the eventfd cannot be made.
  LoopMailbox();
  ~LoopMailbox();
  LoopMailbox(const LoopMailbox&) = delete;
  LoopMailbox& operator=(const LoopMailbox&) = delete;

  // The descriptor the loop polls for POLLIN.
  int fd() const { return fd_; }

  // From any thread but the loop's: runs `job` on the loop and returns what it returned,
  // or nothing if the loop did not run it within `wait` (it may still run later). An
  // exception the job throws is rethrown here.
  std::optional<std::string> ask(std::function<std::string()> job, Millis wait);

  // From any thread: wakes the loop without a job (it then looks at what changed).
  void wake();

  // On the loop's thread: runs every job posted so far.
  void runPending();

 private:
  struct Job {
    std::function<std::string()> run;  // what to do on the loop
    std::promise<std::string> answer;  // what it returned, for the asker
  };

  int fd_ = -1;                            // eventfd: readable while jobs wait
  std::mutex mutex_;                       // guards jobs_
  std::deque<std::shared_ptr<Job>> jobs_;  // posted, not run yet
};

}  // namespace ccmesh::monitoring
