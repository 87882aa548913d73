#include "ccmesh/common/signal_pipe.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ccmesh {
namespace {

// The handler's only state: where to write. A signal handler can reach nothing else.
volatile sig_atomic_t g_write_fd = -1;

// Writes the signal's number: every signal caught fits in one byte.
void onSignal(int signal) {
  const int saved_errno = errno;
  const char byte = static_cast<char>(signal);
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

SignalPipe::SignalPipe(std::initializer_list<int> signals) {
  if (signals.size() > kMaxSignals) throw std::runtime_error("SignalPipe: too many signals");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error(std::string("cannot create the signal pipe: ") + std::strerror(errno));
  }
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  g_write_fd = write_fd_;
  for (int signal : signals) {
    install(signal, onSignal);
    caught_[caught_count_++] = signal;
  }
  install(SIGPIPE, SIG_IGN);
}

SignalPipe::~SignalPipe() {
  for (int i = 0; i < caught_count_; ++i) install(caught_[i], SIG_DFL);
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
      switch (buffer[i]) {
        case SIGCHLD:
          signals.child_exited = true;
          break;
        case SIGHUP:
          ++signals.reloads;
          break;
        default:
          ++signals.stop_requests;
      }
    }
  }
  return signals;
}

}  // namespace ccmesh
