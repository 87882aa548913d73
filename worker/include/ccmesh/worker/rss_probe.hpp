#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace ccmesh::worker {

// How much memory a process holds resident, read from /proc/PID/statm (one small read, so a
// worker can ask about every live CLI every second).
class RssProbe {
 public:
  // Resident set size of `pid` in KiB; nullopt if the process is gone or /proc is unreadable.
  static std::optional<uint64_t> residentKb(pid_t pid);
};

}  // namespace ccmesh::worker
