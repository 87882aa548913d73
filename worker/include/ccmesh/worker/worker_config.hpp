#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/curve_keys.hpp"

namespace ccmesh::worker {

// Everything ccmesh-worker is configured with (command line, CCMESH_* environment, or the
// INI file named by --config).
struct WorkerConfig {
  std::string broker = "tcp://127.0.0.1:5556";      // the broker's backend endpoint
  std::string id;                                   // worker id / routing id: <hostname>-<pid>
  uint32_t capacity = 64;                           // most sessions hosted at once
  uint32_t max_live = 0;                            // CLIs alive at once (0: only capacity)
  Millis idle_timeout{0};                           // idle sessions hibernate (0: never)
  std::map<std::string, std::string> labels;        // placement labels
  std::string cli;                                  // CLI executable (default: the mock CLI)
  std::vector<std::string> cli_args;                // extra CLI arguments
  std::vector<std::string> cli_env;                 // extra CLI environment, K=V
  bool transcript_mirror = true;                    // CLIs mirror their transcripts to the broker
  std::size_t transcript_retain_bytes = 16u << 20;  // per session, kept until acknowledged
  std::size_t queue_depth = 16;                     // prompts waiting per session
  Millis query_timeout{300000};                     // default query deadline
  Millis stop_grace{5000};                          // stdin closed -> SIGTERM
  Millis delta_window{2};                           // least time between a query's events
  Millis heartbeat{1000};                           // heartbeat interval
  uint32_t liveness = 3;                            // heartbeats missed before the broker is dead
  std::string log_level = "info";                   // spdlog level
  std::string log_format = "text";                  // text or json
  std::string ready_file;                           // once serving, write http=URL here
  std::string http;                                 // HTTP endpoint HOST:PORT; empty: none
  std::string http_token_file;                      // bearer token the endpoint requires
  bool insecure = false;                            // HTTP beyond loopback without a token

  // Keys for a CURVE broker link (--curve-server-key, --curve-secret); none: plain.
  std::optional<CurveClientKeys> curve;
  // Permission modes that widen the agent's reach which sessions may use here.
  std::vector<std::string> allow_permission_modes;
  // Where sessions may work (cwd, add_dir); empty: $HOME and the temp directory.
  std::vector<std::string> allowed_roots;
  // Protected environment variables (NAME or PREFIX*) a session's env may set anyway.
  std::vector<std::string> allow_session_env;
  // Sessions may start programs here: stdio MCP servers, settings with hooks and helpers.
  bool allow_mcp_commands = false;
};

// Parses the worker's options. Returns nullopt when --help or --version was printed.
// Throws ConfigError naming the bad option.
std::optional<WorkerConfig> loadWorkerConfig(int argc, const char* const* argv);

// The default --cli: ccmesh-mock-cli next to the running executable.
std::string defaultCliPath();

}  // namespace ccmesh::worker
