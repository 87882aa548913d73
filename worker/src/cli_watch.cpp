#include "cli_watch.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace ccmesh::worker {
namespace {

// Adds `fd`, or changes it if the kernel already has it (and the other way round).
void control(int epoll_fd, int fd, uint32_t events, bool known) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_fd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) == 0) return;
  // Known but closed and reopened since (the kernel dropped it), or added by a round whose
  // bookkeeping was lost: the other operation is the right one.
  if (errno == ENOENT || errno == EEXIST) {
    ::epoll_ctl(epoll_fd, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event);
  }
}

}  // namespace

CliWatch::CliWatch() : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

CliWatch::~CliWatch() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void CliWatch::watch(int fd, uint32_t events, Kind kind, Session& session, pid_t pid) {
  auto it = entries_.find(fd);
  if (it == entries_.end()) {
    control(epoll_fd_, fd, events, false);
    entries_.emplace(fd, Entry{kind, &session, pid, events, round_});
    return;
  }
  Entry& entry = it->second;
  if (entry.pid != pid || entry.session != &session || entry.kind != kind) {
    // The number now names another pipe: the old one was closed, and left the set with it.
    control(epoll_fd_, fd, events, false);
  } else if (entry.events != events) {
    control(epoll_fd_, fd, events, true);
  }
  entry = Entry{kind, &session, pid, events, round_};
}

void CliWatch::commit() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.round == round_) {
      ++it;
      continue;
    }
    // Fails harmlessly if the descriptor was closed (it left the set then).
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->first, nullptr);
    it = entries_.erase(it);
  }
}

const std::vector<CliWatch::Ready>& CliWatch::ready() {
  ready_.clear();
  if (entries_.empty()) return ready_;
  if (events_.size() < entries_.size()) events_.resize(entries_.size());
  int count;
  do {
    count = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), 0);
  } while (count < 0 && errno == EINTR);
  for (int i = 0; i < count; ++i) {
    auto it = entries_.find(events_[static_cast<std::size_t>(i)].data.fd);
    if (it == entries_.end()) continue;
    ready_.push_back({it->second.kind, it->second.session});
  }
  return ready_;
}

}  // namespace ccmesh::worker
