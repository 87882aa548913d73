#include "ccmesh/monitoring/loop_mailbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace ccmesh::monitoring {

LoopMailbox::LoopMailbox() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

LoopMailbox::~LoopMailbox() { ::close(fd_); }

std::optional<std::string> LoopMailbox::ask(std::function<std::string()> job, Millis wait) {
  auto posted = std::make_shared<Job>();
  posted->run = std::move(job);
  auto answer = posted->answer.get_future();
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(posted));
  }
  wake();
  if (answer.wait_for(wait) != std::future_status::ready) return std::nullopt;
  return answer.get();
}

void LoopMailbox::wake() {
  const uint64_t one = 1;
  // Cannot fail short of a counter at its maximum, which then is readable anyway.
  [[maybe_unused]] const auto written = ::write(fd_, &one, sizeof one);
}

void LoopMailbox::runPending() {
  uint64_t count = 0;
  [[maybe_unused]] const auto read = ::read(fd_, &count, sizeof count);  // EAGAIN: none
  std::deque<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard lock(mutex_);
    jobs.swap(jobs_);
  }
  for (auto& job : jobs) {
    try {
      job->answer.set_value(job->run());
    } catch (...) {
      job->answer.set_exception(std::current_exception());
    }
  }
}

}  // namespace ccmesh::monitoring
