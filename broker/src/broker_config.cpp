#include "ccmesh/broker/broker_config.hpp"

#include "ccmesh/common/config_loader.hpp"

namespace ccmesh::broker {
namespace {

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

void checkEndpoint(const BrokerConfig& config, const std::string& endpoint, const char* option) {
  const bool known = startsWith(endpoint, "tcp://") || startsWith(endpoint, "ipc://") ||
                     startsWith(endpoint, "inproc://");
  if (!known) {
    throw ConfigError(std::string("--") + option + " '" + endpoint +
                      "' must start with tcp://, ipc:// or inproc://");
  }
  if (!config.insecure && !isLocalEndpoint(endpoint)) {
    throw ConfigError(std::string("--") + option + " " + endpoint +
                      " is reachable from other machines, and workers run agents that "
                      "execute commands; bind a loopback address or pass --insecure");
  }
}

}  // namespace

bool isLocalEndpoint(std::string_view endpoint) {
  if (startsWith(endpoint, "ipc://") || startsWith(endpoint, "inproc://")) return true;
  if (!startsWith(endpoint, "tcp://")) return false;
  const auto address = endpoint.substr(6);
  return startsWith(address, "127.") || startsWith(address, "localhost:") ||
         startsWith(address, "[::1]:");
}

void validateConfig(const BrokerConfig& config) {
  checkEndpoint(config, config.frontend, "frontend");
  checkEndpoint(config, config.backend, "backend");
  if (config.heartbeat < Millis(10) || config.heartbeat > Millis(600000)) {
    throw ConfigError("--heartbeat-ms must be between 10 and 600000");
  }
  if (config.liveness < 1 || config.liveness > 100) {
    throw ConfigError("--liveness must be between 1 and 100");
  }
  if (config.max_prompt_bytes < 1 || config.max_prompt_bytes > limits::kMaxBodyBytes / 2) {
    throw ConfigError("--max-prompt-bytes must be between 1 and " +
                      std::to_string(limits::kMaxBodyBytes / 2));
  }
  if (config.pending_limit > 1000000) throw ConfigError("--pending-limit is too large");
  if (config.pending_timeout < Millis(1)) {
    throw ConfigError("--pending-timeout-ms must be at least 1");
  }
}

}  // namespace ccmesh::broker
