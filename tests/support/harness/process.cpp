#include "harness/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace ccmesh::test {

Process::Process(std::string path, std::vector<std::string> args, std::string log_path,
                 std::map<std::string, std::string> env)
    : path_(std::move(path)), log_path_(std::move(log_path)) {
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    auto key = entry.substr(0, entry.find('='));
    if (!env.count(key)) envs.push_back(entry);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> argv{path_.data()};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    execve(path_.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  setpgid(pid_, pid_);
}

Process::~Process() { stop(Millis(5000)); }

std::string Process::log() const {
  std::ifstream file(log_path_);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

void Process::signal(int signo) const {
  if (!exited_ && pid_ > 0) ::kill(pid_, signo);
}

bool Process::running() {
  if (exited_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exited_ = true;
    status_ = status;
  }
  return !exited_;
}

int Process::waitExit(Millis deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (running()) {
    if (std::chrono::steady_clock::now() >= until) return -1;
    std::this_thread::sleep_for(Millis(5));  // polling a child's exit under a deadline
  }
  return status_;
}

void Process::stop(Millis grace) {
  if (pid_ <= 0) return;
  if (running()) {
    ::kill(pid_, SIGTERM);
    if (waitExit(grace) == -1) {
      ::kill(-pid_, SIGKILL);
      waitExit(Millis(5000));
    }
  }
  ::kill(-pid_, SIGKILL);  // anything left in its group
}

TempDir::TempDir() {
  auto base = std::filesystem::temp_directory_path() / "ccmesh-test-XXXXXX";
  std::string pattern = base.string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!std::getenv("CCMESH_KEEP_TEST_DIRS")) std::filesystem::remove_all(path_, ignored);
}

namespace {

CommandResult runIn(const TempDir& dir, const std::string& redirections, const std::string& path,
                    const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env, Millis deadline) {
  const std::string out_path = dir.path() + "/out";
  std::vector<std::string> wrapped{
      "-c", "exec \"$0\" \"$@\" 2>\"" + dir.path() + "/err\"" + redirections, path};
  wrapped.insert(wrapped.end(), args.begin(), args.end());
  // The shell only redirects stderr to its own file; stdout goes to the Process log.
  Process process("/bin/sh", wrapped, out_path, env);
  CommandResult result;
  int status = process.waitExit(deadline);
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  auto slurp = [](const std::string& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  result.out = slurp(out_path);
  result.err = slurp(dir.path() + "/err");
  return result;
}

}  // namespace

CommandResult runCommand(const std::string& path, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env, Millis deadline) {
  TempDir dir;
  return runIn(dir, "", path, args, env, deadline);
}

CommandResult runCommandWithInput(const std::string& path, const std::vector<std::string>& args,
                                  const std::string& input, Millis deadline) {
  TempDir dir;
  std::ofstream(dir.path() + "/in") << input;
  return runIn(dir, " <\"" + dir.path() + "/in\"", path, args, {}, deadline);
}

std::string binaryPath(const std::string& name) { return std::string(CCMESH_BIN_DIR) + "/" + name; }

namespace {

// Fields 4 (ppid) and 5 (pgrp) of /proc/PID/stat; the name in field 2 may hold spaces.
bool readStat(pid_t pid, pid_t& ppid, pid_t& pgrp) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(file, text)) return false;
  auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 2));
  char state;
  rest >> state >> ppid >> pgrp;
  return static_cast<bool>(rest) && state != 'Z';
}

template <class Match>
std::vector<pid_t> scan(Match match) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    pid_t ppid = 0;
    pid_t pgrp = 0;
    if (readStat(pid, ppid, pgrp) && match(ppid, pgrp)) found.push_back(pid);
  }
  return found;
}

}  // namespace

std::vector<pid_t> processesInGroup(pid_t pgid) {
  return scan([pgid](pid_t, pid_t pgrp) { return pgrp == pgid; });
}

std::vector<pid_t> childrenOf(pid_t parent) {
  return scan([parent](pid_t ppid, pid_t) { return ppid == parent; });
}

bool processExists(pid_t pid) {
  pid_t ppid = 0;
  pid_t pgrp = 0;
  return readStat(pid, ppid, pgrp);
}

}  // namespace ccmesh::test
