#include "signal_pipe.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace ccmesh::worker {
namespace {

// The handler's only state: where to write. A signal handler can reach nothing else.
volatile sig_atomic_t g_write_fd = -1;

void onSignal(int signal) {
  const int saved_errno = errno;
  const char byte = signal == SIGCHLD ? 'C' : 'T';
  if (g_write_fd >= 0) {
    ssize_t ignored = ::write(g_write_fd, &byte, 1);  // a full pipe already says it
    (void)ignored;
  }
  errno = saved_errno;
}

void install(int signal, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | (signal == SIGCHLD ? SA_NOCLDSTOP : 0);
  ::sigaction(signal, &action, nullptr);
}

}  // namespace

SignalPipe::SignalPipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error(std::string("cannot create the signal pipe: ") + std::strerror(errno));
  }
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  g_write_fd = write_fd_;
  install(SIGCHLD, onSignal);
  install(SIGTERM, onSignal);
  install(SIGINT, onSignal);
  install(SIGPIPE, SIG_IGN);
}

SignalPipe::~SignalPipe() {
  install(SIGCHLD, SIG_DFL);
  install(SIGTERM, SIG_DFL);
  install(SIGINT, SIG_DFL);
  g_write_fd = -1;
  ::close(read_fd_);
  ::close(write_fd_);
}

SignalPipe::Signals SignalPipe::drain() {
  Signals signals;
  char buffer[256];
  while (true) {
    const ssize_t got = ::read(read_fd_, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    for (ssize_t i = 0; i < got; ++i) {
      if (buffer[i] == 'C') {
        signals.child_exited = true;
      } else {
        ++signals.stop_requests;
      }
    }
  }
  return signals;
}

}  // namespace ccmesh::worker
