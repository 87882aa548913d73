#include "ccmesh/worker/cli_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "child_spawner.hpp"
#include "group_keeper.hpp"

namespace ccmesh::worker {
namespace {

// Longest stderr line kept; the CLI's stderr is for humans.
constexpr std::size_t kMaxErrorLineBytes = 64u << 10;

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

Expected<std::unique_ptr<CliProcess>, std::string> CliProcess::start(const CliCommand& command,
                                                                     std::size_t max_line_bytes) {
  auto child = spawnChild(command);
  if (!child) return child.error();
  GroupKeeper::watch(child->pid);
  return std::unique_ptr<CliProcess>(new CliProcess(child->pid, child->stdin_fd, child->stdout_fd,
                                                    child->stderr_fd, max_line_bytes));
}

CliProcess::CliProcess(pid_t pid, int stdin_fd, int stdout_fd, int stderr_fd,
                       std::size_t max_line_bytes)
    : pid_(pid),
      stdin_fd_(stdin_fd),
      stdout_fd_(stdout_fd),
      stderr_fd_(stderr_fd),
      stdout_lines_(max_line_bytes),
      stderr_lines_(kMaxErrorLineBytes) {}

CliProcess::~CliProcess() {
  closeInput();
  closeFd(stdout_fd_);
  closeFd(stderr_fd_);
  if (!exited_) {
    signalGroup(SIGKILL);
    // SIGKILL cannot be ignored, so this wait is short.
    while (::waitpid(pid_, &wait_status_, 0) < 0 && errno == EINTR) {
    }
  }
  // Whatever the CLI started and left behind in its group goes with it. Only the group:
  // the pid itself is reaped and may already belong to someone else.
  ::kill(-pid_, SIGKILL);
  GroupKeeper::forget(pid_);
}

void CliProcess::send(std::string_view line) {
  if (stdin_fd_ < 0) return;
  if (written_ == pending_.size()) {
    pending_.clear();
    written_ = 0;
  }
  pending_.append(line);
  onInputWritable();
}

void CliProcess::onInputWritable() {
  while (stdin_fd_ >= 0 && written_ < pending_.size()) {
    const ssize_t n = ::write(stdin_fd_, pending_.data() + written_, pending_.size() - written_);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      // EPIPE: the CLI is gone; its exit arrives through SIGCHLD.
      closeInput();
      return;
    }
    written_ += static_cast<std::size_t>(n);
  }
  if (written_ == pending_.size()) {
    pending_.clear();
    written_ = 0;
  }
}

LineReader::ReadStatus CliProcess::readOutput(std::size_t budget) {
  if (stdout_fd_ < 0) return LineReader::ReadStatus::kEof;
  auto status = stdout_lines_.readFrom(stdout_fd_, budget);
  if (status == LineReader::ReadStatus::kEof || status == LineReader::ReadStatus::kError) {
    closeFd(stdout_fd_);
  }
  return status;
}

LineReader::ReadStatus CliProcess::readErrors(std::size_t budget) {
  if (stderr_fd_ < 0) return LineReader::ReadStatus::kEof;
  auto status = stderr_lines_.readFrom(stderr_fd_, budget);
  if (status == LineReader::ReadStatus::kEof || status == LineReader::ReadStatus::kError) {
    closeFd(stderr_fd_);
  }
  return status;
}

bool CliProcess::tryReap() {
  if (exited_) return true;
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid_, &status, WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == pid_) {
    exited_ = true;
    wait_status_ = status;
    closeInput();
  } else if (got < 0 && errno == ECHILD) {
    exited_ = true;  // someone else reaped it; nothing more to learn
  }
  return exited_;
}

std::string CliProcess::describeExit() const {
  if (!exited_) return "still running";
  if (WIFEXITED(wait_status_)) return "exit status " + std::to_string(WEXITSTATUS(wait_status_));
  if (WIFSIGNALED(wait_status_)) {
    const int sig = WTERMSIG(wait_status_);
    return "signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "unknown exit";
}

int CliProcess::exitCode() const {
  return exited_ && WIFEXITED(wait_status_) ? WEXITSTATUS(wait_status_) : -1;
}

void CliProcess::beginStop(TimePoint now, Millis grace) {
  if (phase_ != StopPhase::kRunning) return;
  onInputWritable();  // a last interrupt request may still be queued
  closeInput();
  phase_ = StopPhase::kInputClosed;
  phase_deadline_ = now + grace;
}

void CliProcess::killGroup() {
  if (exited_) return;
  closeInput();
  signalGroup(SIGKILL);
  phase_ = StopPhase::kKilled;
}

void CliProcess::onTimer(TimePoint now) {
  if (exited_ || now < phase_deadline_) return;
  if (phase_ == StopPhase::kInputClosed) {
    signalGroup(SIGTERM);
    phase_ = StopPhase::kTerminated;
    phase_deadline_ = now + kTermGrace;
  } else if (phase_ == StopPhase::kTerminated) {
    killGroup();
  }
}

std::optional<TimePoint> CliProcess::nextDeadline() const {
  if (exited_) return std::nullopt;
  if (phase_ == StopPhase::kInputClosed || phase_ == StopPhase::kTerminated) {
    return phase_deadline_;
  }
  return std::nullopt;
}

void CliProcess::closeInput() {
  closeFd(stdin_fd_);
  pending_.clear();
  written_ = 0;
}

void CliProcess::signalGroup(int signal) {
  // The child made itself a group leader; the group holds the CLI and its tools.
  if (::kill(-pid_, signal) != 0 && errno == ESRCH) ::kill(pid_, signal);
}

}  // namespace ccmesh::worker
