#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::test {

// A program the test started: its own process group, output to a log file, stopped (and
// its whole group killed) when the object goes away, so no test leaves a process behind.
class Process {
 public:
  Process(std::string path, std::vector<std::string> args, std::string log_path,
          std::map<std::string, std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& logPath() const { return log_path_; }
  std::string log() const;  // what it has written so far

  // Sends a signal to the process (not its group).
  void signal(int signo) const;
  // Waits for it to exit; returns its wait status, or -1 if it is still running at the
  // deadline.
  int waitExit(Millis deadline);
  bool running();
  // SIGTERM, wait up to `grace`, then SIGKILL to the whole group.
  void stop(Millis grace = Millis(5000));

 private:
  std::string path_;      // the executable
  std::string log_path_;  // where stdout and stderr go
  pid_t pid_ = -1;        // its pid (also its process group id)
  bool exited_ = false;   // reaped already
  int status_ = 0;        // wait status once exited
};

// A fresh directory under the system temp dir, removed with everything in it at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;  // absolute path
};

// What a finished command printed and how it ended.
struct CommandResult {
  int exit_code = -1;  // its exit status, or -1 if it was killed or timed out
  std::string out;     // its stdout
  std::string err;     // its stderr
};

// Runs a program to completion (killed at the deadline) and collects its output.
CommandResult runCommand(const std::string& path, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env = {},
                         Millis deadline = Millis(30000));
// The same, with `input` on its stdin.
CommandResult runCommandWithInput(const std::string& path, const std::vector<std::string>& args,
                                  const std::string& input, Millis deadline = Millis(30000));

// Path of a program built by this project (build/bin).
std::string binaryPath(const std::string& name);

// All pids whose process group is `pgid` (read from /proc).
std::vector<pid_t> processesInGroup(pid_t pgid);
// All pids whose parent is `parent` (read from /proc).
std::vector<pid_t> childrenOf(pid_t parent);
bool processExists(pid_t pid);

}  // namespace ccmesh::test
