// spawnChild starts a CLI with vfork: the child runs in the worker's memory until exec, so
// what it must not take from the worker (signal dispositions, the signal mask, descriptors)
// and what the worker must get back (its own mask, an error for a failed exec) are checked
// here against real processes.
#include "child_spawner.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace ccmesh::worker {
namespace {

// Everything the child writes on stdout, until it closes it; then reaps the child.
std::string outputOf(const SpawnedChild& child) {
  std::string out;
  char buffer[4096];
  while (true) {
    pollfd item{child.stdout_fd, POLLIN, 0};
    if (::poll(&item, 1, 20000) <= 0) break;  // a deadline: the child is stuck
    const ssize_t got = ::read(child.stdout_fd, buffer, sizeof buffer);
    if (got <= 0) break;
    out.append(buffer, static_cast<std::size_t>(got));
  }
  for (int fd : {child.stdin_fd, child.stdout_fd, child.stderr_fd}) ::close(fd);
  int status = 0;
  ::waitpid(child.pid, &status, 0);
  return out;
}

// The value of a field of /proc/self/status as the child saw it ("SigIgn:\t0000...").
std::string field(const std::string& status, const std::string& name) {
  const auto at = status.find(name + ":");
  if (at == std::string::npos) return "";
  const auto start = status.find_first_not_of(" \t", at + name.size() + 1);
  return status.substr(start, status.find('\n', start) - start);
}

CliCommand shell(const std::string& script) {
  CliCommand command;
  command.program = "/bin/sh";
  command.argv = {"/bin/sh", "-c", script};
  command.env = {"PATH=/usr/bin:/bin"};
  return command;
}

TEST(ChildSpawner, TheChildGetsDefaultSignalsAnEmptyMaskAndItsOwnGroup) {
  // The worker ignores SIGPIPE, handles SIGTERM and may block signals; none of it may reach
  // the CLI (ignored signals and the mask survive exec).
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_pipe {};
  ::sigaction(SIGPIPE, &ignore, &old_pipe);
  sigset_t blocked, old_mask;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &blocked, &old_mask);

  auto child = spawnChild(shell("cat /proc/self/status; echo pgid=$(cut -d' ' -f5 /proc/$$/stat)"));
  ASSERT_TRUE(child) << child.error();
  const pid_t pid = child->pid;
  const std::string status = outputOf(*child);

  // The worker's own mask is what it was before the spawn (vfork blocks everything around
  // the child's start, then restores it).
  sigset_t now;
  ::pthread_sigmask(SIG_SETMASK, nullptr, &now);
  EXPECT_EQ(sigismember(&now, SIGUSR1), 1);
  EXPECT_EQ(sigismember(&now, SIGTERM), 0);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);

  ASSERT_FALSE(status.empty());
  // /bin/sh itself ignores nothing at start; a SIGPIPE ignored by the worker would show.
  EXPECT_EQ(field(status, "SigBlk"), "0000000000000000") << status;
  const std::string ignored = field(status, "SigIgn");
  ASSERT_FALSE(ignored.empty());
  const unsigned long long mask = std::stoull(ignored, nullptr, 16);
  EXPECT_EQ(mask & (1ull << (SIGPIPE - 1)), 0u) << "SIGPIPE still ignored: " << ignored;
  EXPECT_NE(status.find("pgid=" + std::to_string(pid)), std::string::npos)
      << "not the leader of its own process group:\n"
      << status;
}

TEST(ChildSpawner, AFailedExecIsAnError) {
  CliCommand command;
  command.program = "/nonexistent/claude";
  command.argv = {"/nonexistent/claude"};
  auto child = spawnChild(command);
  ASSERT_FALSE(child);
  EXPECT_NE(child.error().find("No such file"), std::string::npos) << child.error();
}

TEST(ChildSpawner, AMissingWorkingDirectoryIsNamed) {
  CliCommand command = shell("true");
  command.cwd = "/nonexistent/project";
  auto child = spawnChild(command);
  ASSERT_FALSE(child);
  EXPECT_NE(child.error().find("/nonexistent/project"), std::string::npos) << child.error();
}

}  // namespace
}  // namespace ccmesh::worker
