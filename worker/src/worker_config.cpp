#include "ccmesh/worker/worker_config.hpp"

#include <unistd.h>

#include <climits>
#include <filesystem>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/logging.hpp"
#include "ccmesh/common/session_options.hpp"
#include "ccmesh/monitoring/http_options.hpp"

namespace po = boost::program_options;

namespace ccmesh::worker {
namespace {

std::map<std::string, std::string> parseLabels(const std::string& text) {
  std::map<std::string, std::string> labels;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = text.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError("--labels: expected k=v[,k=v...], got '" + item + "'");
    }
    labels[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return labels;
}

std::string defaultWorkerId() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "worker");
  }
  return std::string(host) + "-" + std::to_string(::getpid());
}

// Splits a comma-separated list, dropping empty items.
std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

// Reads the session policy options (--allow-permission-modes, --allowed-roots,
// --allow-session-env) into `config`.
void readPolicy(const po::variables_map& vm, WorkerConfig& config) {
  if (vm.count("allow-permission-modes")) {
    config.allow_permission_modes = splitList(vm["allow-permission-modes"].as<std::string>());
  }
  for (const auto& mode : config.allow_permission_modes) {
    if (!isKnownPermissionMode(mode)) {
      throw ConfigError("--allow-permission-modes: unknown mode '" + mode + "'");
    }
  }
  if (vm.count("allowed-roots")) {
    config.allowed_roots = splitList(vm["allowed-roots"].as<std::string>());
  }
  for (const auto& root : config.allowed_roots) {
    if (root.front() != '/') throw ConfigError("--allowed-roots: '" + root + "' is not absolute");
  }
  if (vm.count("allow-session-env")) {
    config.allow_session_env = splitList(vm["allow-session-env"].as<std::string>());
  }
  config.allow_mcp_commands = vm["allow-mcp-commands"].as<bool>();
}

template <class T>
T positive(const po::variables_map& vm, const char* name, T minimum) {
  const T value = vm[name].as<T>();
  if (value < minimum) {
    throw ConfigError(std::string("--") + name + " must be at least " + std::to_string(minimum));
  }
  return value;
}

}  // namespace

std::string defaultCliPath() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "ccmesh-mock-cli";
  return (self.parent_path() / "ccmesh-mock-cli").string();
}

std::optional<WorkerConfig> loadWorkerConfig(int argc, const char* const* argv) {
  ConfigLoader loader("ccmesh-worker",
                      "Usage: ccmesh-worker [options]\n\n"
                      "Hosts ccmesh sessions: connects to a broker's backend, spawns and\n"
                      "supervises one Claude Code CLI process (stream-json) per session.");
  WorkerConfig defaults;
  // clang-format off
  loader.options().add_options()
      ("broker", po::value<std::string>()->default_value(defaults.broker)->value_name("ENDPOINT"),
       "the broker's backend endpoint")
      ("id", po::value<std::string>()->value_name("ID"),
       "worker id, unique in the cluster (default: <hostname>-<pid>)")
      ("capacity", po::value<uint32_t>()->default_value(defaults.capacity)->value_name("N"),
       "most sessions this worker hosts")
      ("max-live", po::value<uint32_t>()->default_value(defaults.max_live)->value_name("N"),
       "most CLI processes alive at once; beyond it the least recently used idle session "
       "hibernates (0: no limit besides --capacity)")
      ("idle-timeout-ms", po::value<uint64_t>()->default_value(0)->value_name("N"),
       "hibernate a session idle this long, unless its idle_timeout_ms says otherwise "
       "(0: never)")
      ("labels", po::value<std::string>()->value_name("k=v,..."),
       "placement labels, e.g. gpu=1,zone=a")
      ("cli", po::value<std::string>()->value_name("PATH"),
       "the CLI to run (default: ccmesh-mock-cli next to this executable; e.g. claude)")
      ("cli-arg", po::value<std::vector<std::string>>()->composing()->value_name("ARG"),
       "extra argument for every CLI, repeatable; write --cli-arg=--flag for dashes")
      ("cli-env", po::value<std::vector<std::string>>()->composing()->value_name("K=V"),
       "extra environment for every CLI, repeatable (wins over the session's env)")
      ("transcript-mirror", po::value<bool>()->default_value(true)->value_name("BOOL"),
       "start CLIs with --session-mirror so the broker keeps their transcripts and a moved "
       "session keeps its conversation (false: conversations stay on this machine)")
      ("transcript-retain-bytes",
       po::value<std::size_t>()->default_value(defaults.transcript_retain_bytes)->value_name("N"),
       "per session: mirrored transcript bytes kept until the broker acknowledges them (sent "
       "again to a broker that restarted); beyond it the oldest are forgotten")
      ("queue-depth", po::value<std::size_t>()->default_value(defaults.queue_depth)->value_name("N"),
       "prompts a session queues besides the running one; more get `busy`")
      ("query-timeout-ms", po::value<uint64_t>()->default_value(300000)->value_name("N"),
       "deadline of a query that sets none and whose session sets none")
      ("delta-window-ms",
       po::value<uint64_t>()->default_value(static_cast<uint64_t>(defaults.delta_window.count()))->value_name("N"),
       "least time between two streamed text events of one query: deltas arriving sooner are "
       "merged into the next event (0: merge only deltas read together; the first delta of a "
       "query is never held)")
      ("stop-grace-ms", po::value<uint64_t>()->default_value(5000)->value_name("N"),
       "stopping a CLI: time between closing its stdin and SIGTERM (SIGKILL 2 s later)")
      ("heartbeat-ms", po::value<uint64_t>()->default_value(1000)->value_name("N"),
       "heartbeat interval until the broker's welcome says otherwise")
      ("liveness", po::value<uint32_t>()->default_value(defaults.liveness)->value_name("N"),
       "heartbeat intervals of broker silence before the worker reconnects")
      ("curve-server-key", po::value<std::string>()->value_name("FILE"),
       "the broker's CURVE public key (broker.pub): talk CURVE to a broker that has keys")
      ("curve-secret", po::value<std::string>()->value_name("FILE"),
       "this worker's CURVE secret key (`ccmesh keygen NAME` makes NAME.key); its public key "
       "must be in the broker's --workers-allow list")
      ("allow-permission-modes", po::value<std::string>()->value_name("a,b"),
       "permission modes that loosen the CLI's checks (acceptEdits, bypassPermissions, auto) "
       "sessions may use here; default none")
      ("allowed-roots", po::value<std::string>()->value_name("/a,/b"),
       "directories sessions may work under (cwd, add_dir); default $HOME and the temp "
       "directory; / for anywhere")
      ("allow-session-env", po::value<std::string>()->value_name("NAME,..."),
       "protected environment variables (ANTHROPIC_*, CLAUDE_*, HOME, PATH, LD_*, NODE_*, "
       "proxies, ...) a session's env may set anyway; PREFIX* allowed")
      ("allow-mcp-commands", po::bool_switch(),
       "sessions may start programs on this machine: stdio MCP servers (mcp_config) and "
       "settings with hooks, credential helpers, env or permissions; default refused")
      ("http", po::value<std::string>()->default_value("")->value_name("HOST:PORT"),
       "serve metrics, health (/readyz: registered with a broker) and this worker's sessions "
       "over HTTP here (port 0: any free one; default: off); see docs/OPERATIONS.md")
      ("http-token-file", po::value<std::string>()->value_name("FILE"),
       "every HTTP request must then carry `Authorization: Bearer <the file's token>`; needed "
       "to serve HTTP on an address other machines reach (or --insecure)")
      ("insecure", po::bool_switch(),
       "allow serving HTTP on an address other machines reach without a token (dangerous)")
      ("ready-file", po::value<std::string>()->value_name("FILE"),
       "once the HTTP endpoint serves, write http=URL here (atomically)")
      ("log-format", po::value<std::string>()->default_value("text")->value_name("F"),
       kLogFormatHelp);
  // clang-format on
  po::variables_map vm;
  if (!loader.load(argc, argv, vm)) return std::nullopt;

  WorkerConfig config;
  config.broker = vm["broker"].as<std::string>();
  config.id = vm.count("id") ? vm["id"].as<std::string>() : defaultWorkerId();
  if (config.id.empty() || config.id.size() > 255 || config.id.front() == '\0') {
    throw ConfigError("--id must be 1..255 bytes and not start with a NUL byte");
  }
  config.capacity = positive<uint32_t>(vm, "capacity", 1);
  config.max_live = vm["max-live"].as<uint32_t>();
  config.idle_timeout = Millis(vm["idle-timeout-ms"].as<uint64_t>());
  if (config.idle_timeout > Millis(30LL * 24 * 3600 * 1000)) {
    throw ConfigError("--idle-timeout-ms must be at most 30 days");
  }
  if (vm.count("labels")) config.labels = parseLabels(vm["labels"].as<std::string>());
  config.cli = vm.count("cli") ? vm["cli"].as<std::string>() : defaultCliPath();
  if (config.cli.empty()) throw ConfigError("--cli must not be empty");
  if (vm.count("cli-arg")) config.cli_args = vm["cli-arg"].as<std::vector<std::string>>();
  if (vm.count("cli-env")) config.cli_env = vm["cli-env"].as<std::vector<std::string>>();
  for (const auto& entry : config.cli_env) {
    if (entry.find('=') == std::string::npos || entry.front() == '=') {
      throw ConfigError("--cli-env: expected K=V, got '" + entry + "'");
    }
  }
  config.transcript_mirror = vm["transcript-mirror"].as<bool>();
  config.transcript_retain_bytes = vm["transcript-retain-bytes"].as<std::size_t>();
  config.queue_depth = vm["queue-depth"].as<std::size_t>();
  config.query_timeout = Millis(positive<uint64_t>(vm, "query-timeout-ms", 1));
  config.stop_grace = Millis(vm["stop-grace-ms"].as<uint64_t>());
  config.delta_window = Millis(vm["delta-window-ms"].as<uint64_t>());
  if (config.delta_window > Millis(1000))
    throw ConfigError("--delta-window-ms must be at most 1000");
  config.heartbeat = Millis(positive<uint64_t>(vm, "heartbeat-ms", 10));
  config.liveness = positive<uint32_t>(vm, "liveness", 1);
  config.log_level = vm["log-level"].as<std::string>();
  config.log_format = vm["log-format"].as<std::string>();
  parseLogFormat(config.log_format);
  config.http = vm["http"].as<std::string>();
  if (vm.count("http-token-file")) config.http_token_file = vm["http-token-file"].as<std::string>();
  config.insecure = vm["insecure"].as<bool>();
  if (vm.count("ready-file")) config.ready_file = vm["ready-file"].as<std::string>();
  if (!config.http.empty()) {
    monitoring::validateHttpOptions({config.http, config.http_token_file, config.insecure}, "http");
  } else if (!config.http_token_file.empty()) {
    throw ConfigError("--http-token-file needs --http");
  }
  if (vm.count("curve-server-key") || vm.count("curve-secret")) {
    config.curve = loadCurveClientKeys(
        vm.count("curve-server-key") ? vm["curve-server-key"].as<std::string>() : "",
        vm.count("curve-secret") ? vm["curve-secret"].as<std::string>() : "");
  }
  readPolicy(vm, config);
  return config;
}

}  // namespace ccmesh::worker
