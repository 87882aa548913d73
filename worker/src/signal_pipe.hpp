#pragma once

namespace ccmesh::worker {

// Turns SIGCHLD, SIGTERM and SIGINT into bytes on a pipe the event loop polls (the
// self-pipe trick), and ignores SIGPIPE so a CLI that closed its stdin shows up as EPIPE.
// One per process.
class SignalPipe {
 public:
  // What arrived since the last drain().
  struct Signals {
    bool child_exited = false;  // at least one SIGCHLD
    int stop_requests = 0;      // SIGTERM and SIGINT received
  };

  SignalPipe();
  ~SignalPipe();
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  // The descriptor to poll for POLLIN.
  int fd() const { return read_fd_; }
  // Reads everything pending.
  Signals drain();

 private:
  int read_fd_ = -1;   // polled by the loop
  int write_fd_ = -1;  // written by the signal handler
};

}  // namespace ccmesh::worker
