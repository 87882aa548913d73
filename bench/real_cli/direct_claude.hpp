#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ccmesh/worker/cli_process.hpp"
#include "ccmesh/worker/stream_json_parser.hpp"

namespace ccmesh::bench {

// The real Claude Code CLI driven directly, with nothing in between: started with the
// worker's own code (CliCommand flags, CliProcess pipes, StreamJsonParser), so what differs
// from a session under the worker is exactly the cluster. One turn at a time.
class DirectClaude {
 public:
  // Starts `program` in `work_dir` with `extra_env` (K=V) over this process's environment,
  // HOME and CLAUDE_CONFIG_DIR pointing under `home`, and waits for its answer to
  // `initialize`. Throws std::runtime_error if it does not start or answer.
  DirectClaude(const std::string& program, const std::string& work_dir, const std::string& home,
               const std::vector<std::string>& extra_env);
  // Closes its stdin, gives it a moment to exit, then kills its group.
  ~DirectClaude();
  DirectClaude(const DirectClaude&) = delete;
  DirectClaude& operator=(const DirectClaude&) = delete;

  // Spawn until the answer to `initialize`: the cold start.
  std::chrono::nanoseconds coldStart() const { return cold_start_; }
  pid_t pid() const { return process_->pid(); }

  // Writes one prompt and returns the time until its first text delta; then reads the rest
  // of the turn, up to its result. Throws if the CLI goes quiet or the turn fails.
  std::chrono::nanoseconds firstDelta(const std::string& prompt);

 private:
  // The next event of the CLI's stdout; throws after `wait` of silence or at its exit.
  worker::CliEvent nextEvent(std::chrono::milliseconds wait);

  std::unique_ptr<worker::CliProcess> process_;  // the running CLI
  worker::StreamJsonParser parser_;              // its stdout lines -> events
  std::chrono::nanoseconds cold_start_{0};       // see coldStart()
};

}  // namespace ccmesh::bench
