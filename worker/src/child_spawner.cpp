#include "child_spawner.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ccmesh::worker {
namespace {

// What the child reports through the error pipe before _exit(127).
struct ChildFailure {
  int stage = 0;  // 1: chdir, 2: exec, 3: set-up (dup2, prctl)
  int error = 0;  // errno
};

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Reports a failure to the parent and exits; async-signal-safe.
[[noreturn]] void failChild(int pipe_fd, int stage) {
  ChildFailure failure{stage, errno};
  ssize_t ignored = ::write(pipe_fd, &failure, sizeof failure);
  (void)ignored;
  ::_exit(127);
}

// Everything between vfork and exec, in the worker's memory: only async-signal-safe calls,
// nothing written but this function's own locals, and never a return.
[[noreturn]] void runChild(const char* path, char* const* argv, char* const* envp, const char* cwd,
                           int in_read, int out_write, int err_write, int report_fd, pid_t parent) {
  // Signals arrive blocked (see spawnChild): reset every disposition the worker changed
  // (ignored signals survive exec, handlers must not run here) before unblocking them.
  ::setpgid(0, 0);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) failChild(report_fd, 3);
  if (::getppid() != parent) ::_exit(127);  // the worker died before prctl took effect
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);  // some: EINVAL
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(in_read, STDIN_FILENO) < 0 || ::dup2(out_write, STDOUT_FILENO) < 0 ||
      ::dup2(err_write, STDERR_FILENO) < 0) {
    failChild(report_fd, 3);
  }
  // Nothing else of the worker's (sockets, other children's pipes) may leak into the CLI.
  // The report pipe is close-on-exec already, so marking everything close-on-exec is safe.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    const long max_fd = ::sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < (max_fd > 0 && max_fd < 65536 ? max_fd : 65536); ++fd) {
      if (fd != report_fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
  }
  if (cwd != nullptr && ::chdir(cwd) != 0) failChild(report_fd, 1);
  ::execve(path, argv, envp);
  failChild(report_fd, 2);
}

// What the child needs, made before vfork.
struct ChildPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* cwd;
  int in_read, out_write, err_write, report_fd;
  pid_t parent;
};

// vfork and, in the child, runChild; apart from spawnChild so that none of its locals lives
// across vfork. Signals are blocked in between (see spawnChild). Returns the pid or -1.
[[gnu::noinline]] pid_t vforkChild(const ChildPlan& plan, int& error) {
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t pid = ::vfork();
  if (pid == 0) {
    runChild(plan.path, plan.argv, plan.envp, plan.cwd, plan.in_read, plan.out_write,
             plan.err_write, plan.report_fd, plan.parent);
  }
  error = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return pid;
}

}  // namespace

std::string resolveProgram(const std::string& program) {
  if (program.empty() || program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(start, colon - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return program;
}

Expected<SpawnedChild, std::string> spawnChild(const CliCommand& command) {
  const std::string path = resolveProgram(command.program);
  // Every allocation happens before fork.
  std::vector<char*> argv;
  for (const auto& arg : command.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : command.env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  const char* cwd = command.cwd.empty() ? nullptr : command.cwd.c_str();

  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  int report[2] = {-1, -1};
  auto close_all = [&] {
    for (int* fds : {in_pipe, out_pipe, err_pipe, report}) {
      closeFd(fds[0]);
      closeFd(fds[1]);
    }
  };
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    std::string message = std::string("pipe: ") + std::strerror(errno);
    close_all();
    return message;
  }
  const pid_t parent = ::getpid();
  // vfork, not fork: the child borrows the worker's memory until it execs instead of the
  // kernel copying the worker's page tables, which made each spawn cost milliseconds in a
  // worker of some size (bench/micro/spawn_bench.cpp), and this thread resumes once the
  // child has exec'd or failed. Every signal stays blocked until the child has reset the
  // dispositions it inherited: a worker handler must never run in the child.
  int vfork_error = 0;
  const pid_t pid = vforkChild({path.c_str(), argv.data(), envp.data(), cwd, in_pipe[0],
                                out_pipe[1], err_pipe[1], report[1], parent},
                               vfork_error);
  if (pid < 0) {
    std::string message = std::string("vfork: ") + std::strerror(vfork_error);
    close_all();
    return message;
  }
  ::setpgid(pid, pid);  // also in the parent, so a signal to the group cannot race the child
  closeFd(in_pipe[0]);
  closeFd(out_pipe[1]);
  closeFd(err_pipe[1]);
  closeFd(report[1]);

  // Blocks only until exec (or its failure): the pipe closes on exec.
  ChildFailure failure;
  ssize_t got;
  do {
    got = ::read(report[0], &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  closeFd(report[0]);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    close_all();
    const char* what = failure.stage == 1   ? "cannot enter working directory "
                       : failure.stage == 2 ? ""
                                            : "child set-up failed: ";
    std::string detail = failure.stage == 1 ? command.cwd + ": " : std::string();
    return std::string(what) + detail + std::strerror(failure.error);
  }
  for (int fd : {in_pipe[1], out_pipe[0], err_pipe[0]}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  SpawnedChild child{pid, in_pipe[1], out_pipe[0], err_pipe[0]};
  return child;
}

}  // namespace ccmesh::worker
