#pragma once

#include <initializer_list>

namespace ccmesh {

// Turns the signals a program asks for into bytes on a pipe its event loop polls (the
// self-pipe trick), so the loop learns of them between two waits and no handler touches its
// state. SIGPIPE is ignored, so a peer that closed its end shows up as EPIPE. One per
// process; the handlers go back to their defaults when it goes.
class SignalPipe {
 public:
  // What arrived since the last drain().
  struct Signals {
    bool child_exited = false;  // at least one SIGCHLD
    int stop_requests = 0;      // SIGTERM and SIGINT received
    int reloads = 0;            // SIGHUP received
  };

  // Catches `signals` (any of SIGCHLD, SIGTERM, SIGINT, SIGHUP). Throws std::runtime_error if
  // the pipe cannot be made.
  explicit SignalPipe(std::initializer_list<int> signals);
  ~SignalPipe();
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  // The descriptor to poll for POLLIN.
  int fd() const { return read_fd_; }
  // Reads everything pending.
  Signals drain();

 private:
  static constexpr int kMaxSignals = 4;  // SIGCHLD, SIGTERM, SIGINT, SIGHUP

  int read_fd_ = -1;           // polled by the loop
  int write_fd_ = -1;          // written by the signal handler
  int caught_[kMaxSignals]{};  // the signals whose handler is installed
  int caught_count_ = 0;       // entries of caught_ in use
};

}  // namespace ccmesh
