#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::worker {

// Everything ccmesh-worker is configured with (command line, CCMESH_* environment, or the
// INI file named by --config).
struct WorkerConfig {
  std::string broker = "tcp://127.0.0.1:5556";  // the broker's backend endpoint
  std::string id;                               // worker id / routing id: <hostname>-<pid>
  uint32_t capacity = 64;                       // most sessions hosted at once
  std::map<std::string, std::string> labels;    // placement labels
  std::string cli;                              // CLI executable (default: the mock CLI)
  std::vector<std::string> cli_args;            // extra CLI arguments
  std::vector<std::string> cli_env;             // extra CLI environment, K=V
  std::size_t queue_depth = 16;                 // prompts waiting per session
  Millis query_timeout{300000};                 // default query deadline
  Millis stop_grace{5000};                      // stdin closed -> SIGTERM
  Millis heartbeat{1000};                       // heartbeat interval
  uint32_t liveness = 3;                        // heartbeats missed before the broker is dead
  std::string log_level = "info";               // spdlog level
};

// Parses the worker's options. Returns nullopt when --help or --version was printed.
// Throws ConfigError naming the bad option.
std::optional<WorkerConfig> loadWorkerConfig(int argc, const char* const* argv);

// The default --cli: ccmesh-mock-cli next to the running executable.
std::string defaultCliPath();

}  // namespace ccmesh::worker
