#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/expected.hpp"
#include "ccmesh/worker/cli_command.hpp"
#include "ccmesh/worker/line_reader.hpp"

namespace ccmesh::worker {

// One running CLI child: its pipes, a buffer for what still has to reach its stdin, line
// readers for its stdout and stderr, and the gentle stop sequence (close stdin, wait,
// SIGTERM to the group, wait, SIGKILL to the group). Never blocks: the owner polls the
// descriptors and calls the on...() methods, and calls tryReap() after SIGCHLD.
class CliProcess {
 public:
  // How long the group gets between SIGTERM and SIGKILL.
  static constexpr Millis kTermGrace{2000};

  // Spawns the command (see spawnChild). The error is a human-readable reason.
  static Expected<std::unique_ptr<CliProcess>, std::string> start(const CliCommand& command,
                                                                  std::size_t max_line_bytes);

  // Kills the group and reaps the child if it is still running.
  ~CliProcess();
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Queues a line for stdin and writes as much as the pipe takes now. Dropped once stdin
  // is closed.
  void send(std::string_view line);
  // Writes more of the queued input (the descriptor polled writable).
  void onInputWritable();
  // Descriptor to poll for POLLOUT: valid only while input is waiting, else -1.
  int pendingInputFd() const { return pending_.size() > written_ ? stdin_fd_ : -1; }

  // Descriptors to poll for POLLIN (-1 once at end of file).
  int outputFd() const { return stdout_fd_; }
  int errorFd() const { return stderr_fd_; }
  // Reads at most `budget` bytes of stdout / stderr into the line readers; closes the
  // descriptor at end of file or on error (and then report kEof / kError).
  LineReader::ReadStatus readOutput(std::size_t budget);
  LineReader::ReadStatus readErrors(std::size_t budget);
  LineReader& outputLines() { return stdout_lines_; }
  LineReader& errorLines() { return stderr_lines_; }

  // waitpid(WNOHANG). True once the child has exited (now or before).
  bool tryReap();
  bool exited() const { return exited_; }
  // "exit status 3", "signal 9 (Killed)", ...
  std::string describeExit() const;
  // The exit code, or -1 if it was killed by a signal or has not exited.
  int exitCode() const;

  // Begins the gentle stop: flush what fits, close stdin; SIGTERM at now + grace.
  void beginStop(TimePoint now, Millis grace);
  bool stopping() const { return phase_ != StopPhase::kRunning; }
  // SIGKILL to the whole group at once.
  void killGroup();
  // Advances the stop sequence.
  void onTimer(TimePoint now);
  // When onTimer has something to do next.
  std::optional<TimePoint> nextDeadline() const;

 private:
  // Where the stop sequence is.
  enum class StopPhase { kRunning, kInputClosed, kTerminated, kKilled };

  CliProcess(pid_t pid, int stdin_fd, int stdout_fd, int stderr_fd, std::size_t max_line_bytes);
  void closeInput();
  void signalGroup(int signal);

  pid_t pid_;                              // the child, also its process group id
  int stdin_fd_;                           // write end of its stdin, -1 once closed
  int stdout_fd_;                          // read end of its stdout, -1 at end of file
  int stderr_fd_;                          // read end of its stderr, -1 at end of file
  std::string pending_;                    // input not yet written
  std::size_t written_ = 0;                // bytes of pending_ already written
  LineReader stdout_lines_;                // stdout split into lines
  LineReader stderr_lines_;                // stderr split into lines
  bool exited_ = false;                    // reaped
  int wait_status_ = 0;                    // waitpid status once reaped
  StopPhase phase_ = StopPhase::kRunning;  // progress of the gentle stop
  TimePoint phase_deadline_{};             // when the next escalation is due
};

}  // namespace ccmesh::worker
