#include "process_probe.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ccmesh::bench {

int64_t ProcessProbe::residentKiB() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

double ProcessProbe::cpuSeconds() const {
  // Nanoseconds on a CPU, summed over the process's threads (first field of each
  // /proc/PID/task/TID/schedstat); the tick counts of /proc/PID/stat are too coarse for
  // blocks of a few hundred milliseconds.
  std::error_code error;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid_) + "/task";
  uint64_t nanos = 0;
  bool found = false;
  for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
    std::ifstream schedstat(task.path() / "schedstat");
    uint64_t on_cpu = 0;
    if (schedstat >> on_cpu) {
      nanos += on_cpu;
      found = true;
    }
  }
  if (found) return static_cast<double>(nanos) / 1e9;
  return statSeconds();
}

double ProcessProbe::statSeconds() const {
  std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return -1;
  // Fields after the command name (which may hold spaces) start with field 3, the state;
  // utime and stime are fields 14 and 15.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string skipped;
  for (int field = 3; field < 14; ++field) fields >> skipped;
  uint64_t user_ticks = 0;
  uint64_t system_ticks = 0;
  fields >> user_ticks >> system_ticks;
  if (!fields) return -1;
  return static_cast<double>(user_ticks + system_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace ccmesh::bench
