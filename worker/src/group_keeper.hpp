#pragma once

#include <sys/types.h>

#include <cstdint>

namespace ccmesh::worker {

// A small helper process that kills the process groups of the worker's CLIs when the
// worker itself dies, even by SIGKILL. PR_SET_PDEATHSIG only reaches a CLI, not the
// processes the CLI started (a tool's shell, a build it runs); they share the CLI's process
// group, which the keeper kills when its pipe from the worker reaches end of file.
//
// It also enforces the worker's lease when the worker cannot: a worker frozen by SIGSTOP
// (or stalled in the kernel) does not run its own self-fencing, but its CLIs would go on
// running beside the copies the broker starts elsewhere once the lease has lapsed. The
// worker tells the keeper each new lease expiry; if one passes without a newer one, the
// keeper kills every group it watches.
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
  // The worker's lease now runs out at `expiry_ns` (CLOCK_MONOTONIC, as std::chrono's
  // steady_clock); 0 when it holds none (the keeper then kills nothing on its own).
  static void leaseUntil(int64_t expiry_ns);

 private:
  static void send(int32_t op, int64_t value);
  [[noreturn]] static void keep(int read_fd);

  static inline int pipe_fd_ = -1;  // write end of the pipe to the keeper
};

}  // namespace ccmesh::worker
