#pragma once

#include <sys/types.h>

namespace ccmesh::worker {

// A small helper process that kills the process groups of the worker's CLIs when the
// worker itself dies, even by SIGKILL. PR_SET_PDEATHSIG only reaches a CLI, not the
// processes the CLI started (a tool's shell, a build it runs); they share the CLI's process
// group, which the keeper kills when its pipe from the worker reaches end of file.
//
// One per worker process: started from main() before any thread exists, registered
// groups added and removed as CLIs start and are reaped. Without start(), the calls are
// no-ops (unit tests).
class GroupKeeper {
 public:
  // Forks the keeper. Throws std::runtime_error if it cannot.
  static void start();
  // The worker is about to run (or has stopped) a process group led by `pgid`.
  static void watch(pid_t pgid);
  static void forget(pid_t pgid);

 private:
  static void send(int op, pid_t pgid);
  [[noreturn]] static void keep(int read_fd);

  static inline int pipe_fd_ = -1;  // write end of the pipe to the keeper
};

}  // namespace ccmesh::worker
