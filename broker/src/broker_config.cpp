#include "ccmesh/broker/broker_config.hpp"

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/monitoring/http_options.hpp"

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
  if (!config.insecure && config.curve_secret_file.empty() && !isLocalEndpoint(endpoint)) {
    throw ConfigError(
        std::string("--") + option + " " + endpoint +
        " is reachable from other machines, and workers run agents that execute commands. "
        "Turn on CURVE authentication: make keys with `ccmesh keygen broker`, `ccmesh keygen "
        "NAME` for each client and worker, list the clients' public keys in a file given to "
        "--clients-allow and the workers' in one given to --workers-allow, and start the "
        "broker with --curve-secret broker.key (see docs/SECURITY.md). Or bind a loopback "
        "address, or pass --insecure on a network you trust completely");
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

Millis workerExpiry(const BrokerConfig& config) {
  const Millis margin = config.fence_margin > Millis(0) ? config.fence_margin : config.heartbeat;
  return config.heartbeat * config.liveness + margin;
}

namespace {

// The --ha-* options.
void validateHa(const HaConfig& ha) {
  if (!ha.enabled()) {
    if (!ha.name.empty() || !ha.advertise_frontend.empty() || !ha.advertise_backend.empty()) {
      throw ConfigError("--ha-name and --ha-advertise-* need --ha-etcd");
    }
    return;
  }
  if (ha.name.empty()) throw ConfigError("--ha-etcd needs --ha-name (this broker's name)");
  const auto plain = [](const std::string& text) {
    return !text.empty() && text.find_first_of("/ \t\n") == std::string::npos;
  };
  if (!plain(ha.name) || !plain(ha.cluster)) {
    throw ConfigError("--ha-name and --ha-cluster must be non-empty, without '/' or spaces");
  }
  for (const auto& endpoint : ha.etcd) {
    if (endpoint.rfind("http://", 0) != 0 || endpoint.size() <= 7) {
      throw ConfigError("--ha-etcd takes http://HOST:PORT endpoints, comma-separated; got '" +
                        endpoint + "'");
    }
  }
  if (ha.ttl < Millis(200) || ha.ttl > Millis(600000)) {
    throw ConfigError("--ha-ttl-ms must be between 200 and 600000");
  }
}

}  // namespace

void validateConfig(const BrokerConfig& config) {
  const bool curve = !config.curve_secret_file.empty();
  if (curve && (config.clients_allow_file.empty() || config.workers_allow_file.empty())) {
    throw ConfigError(
        "--curve-secret needs --clients-allow FILE and --workers-allow FILE (the public keys "
        "allowed on each port; see docs/SECURITY.md)");
  }
  if (!curve && !(config.clients_allow_file.empty() && config.workers_allow_file.empty())) {
    throw ConfigError("--clients-allow and --workers-allow need --curve-secret FILE");
  }
  if (config.http_max_queries < 1 || config.http_max_queries > kMaxHttpQueries) {
    throw ConfigError("--http-max-queries must be between 1 and " +
                      std::to_string(kMaxHttpQueries));
  }
  if (config.max_sessions_per_client < 1 || config.max_pending_per_client < 1) {
    throw ConfigError("--max-sessions-per-client and --max-pending-per-client must be at least 1");
  }
  validateHa(config.ha);
  checkEndpoint(config, config.frontend, "frontend");
  checkEndpoint(config, config.backend, "backend");
  monitoring::validateHttpOptions({config.http, config.http_token_file, config.insecure}, "http");
  if (config.heartbeat < Millis(10) || config.heartbeat > Millis(600000)) {
    throw ConfigError("--heartbeat-ms must be between 10 and 600000");
  }
  // With liveness 1 a worker's lease would lapse between each heartbeat and its ack.
  if (config.liveness < 2 || config.liveness > 100) {
    throw ConfigError("--liveness must be between 2 and 100");
  }
  if (config.fence_margin < Millis(0) || config.fence_margin > Millis(600000)) {
    throw ConfigError("--fence-margin-ms must be between 0 and 600000");
  }
  if (config.max_prompt_bytes < 1 || config.max_prompt_bytes > limits::kMaxBodyBytes / 2) {
    throw ConfigError("--max-prompt-bytes must be between 1 and " +
                      std::to_string(limits::kMaxBodyBytes / 2));
  }
  if (config.pending_limit > 1000000) throw ConfigError("--pending-limit is too large");
  if (config.watch_queue_limit == 0 || config.watch_queue_limit > 10000000) {
    throw ConfigError("--watch-queue-limit must be between 1 and 10000000");
  }
  if (config.pending_timeout < Millis(1)) {
    throw ConfigError("--pending-timeout-ms must be at least 1");
  }
  if (config.transcript_max_bytes < 1024 || config.transcript_max_bytes > kMaxTranscriptBytes) {
    throw ConfigError("--transcript-max-bytes must be between 1024 and " +
                      std::to_string(kMaxTranscriptBytes) +
                      " (a transcript travels in one message)");
  }
  if (config.transcript_total_bytes < config.transcript_max_bytes) {
    throw ConfigError("--transcript-total-bytes must be at least --transcript-max-bytes");
  }
}

}  // namespace ccmesh::broker
