#include "group_keeper.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <set>
#include <stdexcept>

namespace ccmesh::worker {
namespace {

// One request on the pipe: add or remove a process group.
struct KeeperRequest {
  int32_t op = 0;  // kWatch or kForget
  int32_t pgid = 0;
};

constexpr int32_t kWatch = 1;
constexpr int32_t kForget = 2;

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

void GroupKeeper::watch(pid_t pgid) { send(kWatch, pgid); }

void GroupKeeper::forget(pid_t pgid) { send(kForget, pgid); }

void GroupKeeper::send(int op, pid_t pgid) {
  if (pipe_fd_ < 0 || pgid <= 0) return;
  KeeperRequest request{op, pgid};
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
  KeeperRequest request;
  while (true) {
    ssize_t n = ::read(read_fd, &request, sizeof request);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof request)) break;  // end of file: the worker is gone
    if (request.op == kWatch) groups.insert(request.pgid);
    if (request.op == kForget) groups.erase(request.pgid);
  }
  for (pid_t pgid : groups) ::kill(-pgid, SIGKILL);
  ::_exit(0);
}

}  // namespace ccmesh::worker
