#include "direct_cli.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

#include "ccmesh/worker/cli_messages.hpp"
#include "harness/process.hpp"

namespace ccmesh::bench {
namespace {

constexpr int kReadTimeoutMillis = 30000;

}  // namespace

DirectCli::DirectCli(const std::string& home) {
  // Everything the child needs is built before fork: the bench runs other threads.
  const std::string program = test::binaryPath("ccmesh-mock-cli");
  std::vector<std::string> args{program,
                                "-p",
                                "--input-format",
                                "stream-json",
                                "--output-format",
                                "stream-json",
                                "--verbose",
                                "--include-partial-messages",
                                "--session-id=bench-direct"};
  std::vector<std::string> env{"HOME=" + home, "CLAUDE_CONFIG_DIR=" + home + "/.claude",
                               "PATH=/usr/bin:/bin"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);

  int input[2];
  int output[2];
  if (::pipe2(input, O_CLOEXEC) != 0 || ::pipe2(output, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(input[0], STDIN_FILENO);
    ::dup2(output[1], STDOUT_FILENO);
    const int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDERR_FILENO);
    if (::chdir(home.c_str()) != 0) ::_exit(127);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(input[0]);
  ::close(output[1]);
  to_cli_ = input[1];
  from_cli_ = output[0];
}

DirectCli::~DirectCli() {
  ::close(to_cli_);
  for (int i = 0; i < 500; ++i) {  // up to 5 s for it to see the end of its input
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    ::usleep(10000);  // polling a child's exit under a deadline
  }
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::close(from_cli_);
}

std::string DirectCli::readLine() {
  while (true) {
    const auto newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    pollfd readable{from_cli_, POLLIN, 0};
    if (::poll(&readable, 1, kReadTimeoutMillis) <= 0) {
      throw std::runtime_error("the mock CLI went quiet");
    }
    char chunk[65536];
    const ssize_t got = ::read(from_cli_, chunk, sizeof chunk);
    if (got <= 0) throw std::runtime_error("the mock CLI closed its output");
    buffer_.append(chunk, static_cast<std::size_t>(got));
  }
}

DirectCli::TurnTimes DirectCli::turn(const std::string& prompt) {
  const std::string line = worker::cli_messages::userMessage(prompt);
  const auto start = std::chrono::steady_clock::now();
  if (::write(to_cli_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    throw std::runtime_error("cannot write to the mock CLI");
  }
  std::chrono::nanoseconds first{-1};
  while (true) {
    const std::string output = readLine();
    if (first.count() < 0 && output.find("\"text_delta\"") != std::string::npos) {
      first = std::chrono::steady_clock::now() - start;
    }
    if (output.rfind("{\"type\":\"result\"", 0) == 0) break;
  }
  const auto result = std::chrono::steady_clock::now() - start;
  if (first.count() < 0) throw std::runtime_error("the mock CLI streamed no delta");
  return {first, result};
}

}  // namespace ccmesh::bench
