#include "copy_sampler.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ccmesh::test {

bool runnable(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("State:", 0) == 0 &&
        (line.find('Z') != std::string::npos || line.find('X') != std::string::npos)) {
      return false;
    }
    if (line.rfind("SigPnd:", 0) == 0 || line.rfind("ShdPnd:", 0) == 0) {
      const auto mask = std::stoull(line.substr(line.find(':') + 1), nullptr, 16);
      if (mask & (1ull << (9 - 1))) return false;  // SIGKILL
    }
  }
  return status.eof();
}

namespace {

// The program name of a process (at most 15 characters), or "".
std::string commandName(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(file, name);
  return name;
}

// The value of `variable` in a process's initial environment, or "".
std::string environmentValue(pid_t pid, const std::string& variable) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  const std::string wanted = variable + "=";
  std::string entry;
  while (std::getline(file, entry, '\0')) {
    if (entry.rfind(wanted, 0) == 0) return entry.substr(wanted.size());
  }
  return "";
}

}  // namespace

CopySampler::CopySampler(std::string tag) : prefix_(std::move(tag) + "/") {
  thread_ = std::thread([this] { run(); });
}

CopySampler::~CopySampler() { stop(); }

void CopySampler::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, std::vector<pid_t>> CopySampler::liveCopies() const {
  std::map<std::string, std::vector<pid_t>> copies;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    // Cheap first: only CLI processes carry the tag.
    if (commandName(pid).rfind(kCliPrefix, 0) != 0) continue;
    const std::string tag = environmentValue(pid, kSessionTagVariable);
    if (tag.rfind(prefix_, 0) != 0) continue;
    if (!runnable(pid)) continue;
    copies[tag.substr(prefix_.size())].push_back(pid);
  }
  return copies;
}

std::vector<std::string> CopySampler::violations() const {
  std::lock_guard lock(mutex_);
  return violations_;
}

void CopySampler::run() {
  while (!stop_.load()) {
    for (const auto& [session, pids] : liveCopies()) {
      if (pids.size() < 2) continue;
      // Check again: one of them may have been dying while the table was read.
      std::vector<pid_t> still;
      for (pid_t pid : pids) {
        if (runnable(pid)) still.push_back(pid);
      }
      if (still.size() < 2) continue;
      std::ostringstream text;
      text << "session " << session << " had " << still.size() << " live CLIs:";
      for (pid_t pid : still) text << " " << pid;
      std::lock_guard lock(mutex_);
      violations_.push_back(text.str());
    }
    samples_.fetch_add(1);
    // Pacing of the sampling loop, not synchronisation: leave the cores to the cluster.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace ccmesh::test
