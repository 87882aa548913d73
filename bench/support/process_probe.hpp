#pragma once

#include <sys/types.h>

#include <cstdint>

namespace ccmesh::bench {

// What /proc says about one running process: its resident memory and the CPU time it used.
class ProcessProbe {
 public:
  explicit ProcessProbe(pid_t pid) : pid_(pid) {}

  // VmRSS of /proc/PID/status in KiB; -1 if the process is gone.
  int64_t residentKiB() const;
  // CPU time used by all its threads alive now, in seconds (to the nanosecond where the
  // kernel keeps schedstat); -1 if the process is gone.
  double cpuSeconds() const;

 private:
  // utime + stime of /proc/PID/stat, in clock ticks' resolution; -1 if the process is gone.
  double statSeconds() const;

  pid_t pid_;  // the process looked at
};

}  // namespace ccmesh::bench
