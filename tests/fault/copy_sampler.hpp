#pragma once

#include <sys/types.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ccmesh::test {

// True if the process can still run code: it exists, is not a zombie and has no SIGKILL
// pending.
bool runnable(pid_t pid);

// Watches the process table for two live CLI processes of one session name. Tests start
// their sessions with the option env `kSessionTagVariable=<tag>/<name>`; the sampler reads
// every process's environment in a loop on its own thread. A process that is a zombie or
// has SIGKILL pending can run no more code and does not count.
class CopySampler {
 public:
  // The environment variable that names a CLI's session.
  static constexpr const char* kSessionTagVariable = "CCMESH_FAULT_SESSION";
  // How the CLI's program name starts (the mock CLI's, as the kernel truncates it).
  static constexpr const char* kCliPrefix = "ccmesh-mock";

  // Samples processes whose tag starts with `tag` + "/".
  explicit CopySampler(std::string tag);
  ~CopySampler();
  CopySampler(const CopySampler&) = delete;
  CopySampler& operator=(const CopySampler&) = delete;

  // Stops sampling (idempotent).
  void stop();

  // Live CLI processes per session name right now.
  std::map<std::string, std::vector<pid_t>> liveCopies() const;

  // Moments a name had two live copies, described for a failure message.
  std::vector<std::string> violations() const;
  // Samples taken so far.
  uint64_t samples() const { return samples_.load(); }

 private:
  void run();

  std::string prefix_;                   // "<tag>/"
  std::atomic<bool> stop_{false};        // asks the thread to end
  std::atomic<uint64_t> samples_{0};     // see samples()
  mutable std::mutex mutex_;             // guards violations_
  std::vector<std::string> violations_;  // see violations()
  std::thread thread_;                   // the sampling loop
};

}  // namespace ccmesh::test
