// ccmesh-broker: parses options, binds, writes the ready file, runs the loop until SIGTERM.
#include <signal.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <zmq.hpp>

#include "ccmesh/broker/broker.hpp"
#include "ccmesh/broker/broker_config.hpp"
#include "ccmesh/broker/broker_monitor.hpp"
#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/endpoint_list.hpp"
#include "ccmesh/common/logging.hpp"
#include "ccmesh/common/ready_file.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "ccmesh/common/signal_pipe.hpp"

namespace po = boost::program_options;
using namespace ccmesh;

namespace {

// Reads the command line, environment and --config into a BrokerConfig. False: --help or
// --version was printed.
bool loadConfig(int argc, char** argv, broker::BrokerConfig& config, std::string& sessions,
                std::string& ready_file, std::string& log_level, std::string& log_format) {
  ConfigLoader loader("ccmesh-broker",
                      "Usage: ccmesh-broker [options]\n"
                      "Routes prompts for named Claude Code sessions to ccmesh workers.");
  uint64_t heartbeat_ms = 0;
  uint64_t pending_timeout_ms = 0;
  uint64_t fence_margin_ms = 0;
  uint64_t ha_ttl_ms = 0;
  std::string ha_etcd;
  // clang-format off
  loader.options().add_options()
      ("frontend", po::value(&config.frontend)->default_value(config.frontend)->value_name("ENDPOINT"),
       "where clients connect (ROUTER, bound); a wildcard port tcp://127.0.0.1:* is allowed")
      ("backend", po::value(&config.backend)->default_value(config.backend)->value_name("ENDPOINT"),
       "where workers connect (ROUTER, bound); a wildcard port is allowed")
      ("sessions", po::value(&sessions)->value_name("FILE"),
       "INI file of sessions to create at start-up ([session.NAME] option = value) and of "
       "pools ([pool.NAME] size = N, strategy = S); they are placed as soon as workers connect")
      ("heartbeat-ms", po::value(&heartbeat_ms)->default_value(1000)->value_name("N"),
       "heartbeat interval both ways, told to workers in welcome")
      ("liveness", po::value(&config.liveness)->default_value(config.liveness)->value_name("N"),
       "a worker silent for liveness x heartbeat-ms (+ fence margin) is dead and its sessions "
       "move; its lease lasts liveness x heartbeat-ms")
      ("fence-margin-ms", po::value(&fence_margin_ms)->default_value(0)->value_name("N"),
       "extra wait after a silent worker's lease has lapsed before its sessions move (0: one "
       "heartbeat); see docs/OPERATIONS.md")
      ("max-prompt-bytes", po::value(&config.max_prompt_bytes)->default_value(config.max_prompt_bytes)->value_name("N"),
       "longest prompt accepted; longer ones get bad_request")
      ("pending-limit", po::value(&config.pending_limit)->default_value(config.pending_limit)->value_name("N"),
       "per session, queries kept waiting while no worker hosts it; more get busy")
      ("pending-timeout-ms", po::value(&pending_timeout_ms)->default_value(60000)->value_name("N"),
       "how long a query with no timeout of its own waits for a worker before unavailable")
      ("ready-file", po::value(&ready_file)->value_name("FILE"),
       "once bound, write frontend=ENDPOINT, backend=ENDPOINT and http=URL lines here "
       "(atomically)")
      ("insecure", po::bool_switch(&config.insecure),
       "allow binding addresses other machines can reach, without CURVE keys (dangerous)")
      ("curve-secret", po::value(&config.curve_secret_file)->value_name("FILE"),
       "the broker's CURVE secret key (`ccmesh keygen broker` makes broker.key): turns on "
       "CURVE encryption and authentication on both ports; needs --clients-allow and "
       "--workers-allow")
      ("clients-allow", po::value(&config.clients_allow_file)->value_name("FILE"),
       "client public keys allowed on the frontend, one a line: `<key> <admin|query> [name]`; "
       "reread on SIGHUP")
      ("workers-allow", po::value(&config.workers_allow_file)->value_name("FILE"),
       "worker public keys allowed on the backend, one a line: `<key> [name]`; reread on SIGHUP")
      ("max-sessions-per-client", po::value(&config.max_sessions_per_client)->default_value(config.max_sessions_per_client)->value_name("N"),
       "sessions one client key may have created (CURVE); more starts get busy")
      ("max-pending-per-client", po::value(&config.max_pending_per_client)->default_value(config.max_pending_per_client)->value_name("N"),
       "requests in flight per client key (without CURVE: per connection); more get busy")
      ("data-dir", po::value(&config.data_dir)->value_name("DIR"),
       "keep session transcripts in DIR/transcripts too (one append-only file per session, "
       "flushed on every append), so a broker restart keeps them")
      ("transcript-max-bytes", po::value(&config.transcript_max_bytes)->default_value(config.transcript_max_bytes)->value_name("N"),
       "per session, transcript bytes kept; beyond it the oldest entries are dropped (a moved "
       "session then resumes without them)")
      ("transcript-total-bytes", po::value(&config.transcript_total_bytes)->default_value(config.transcript_total_bytes)->value_name("N"),
       "transcript bytes kept in memory for all sessions; beyond it the least recently used "
       "transcripts leave memory (kept on disk with --data-dir, else dropped)")
      ("http", po::value(&config.http)->default_value(config.http)->value_name("HOST:PORT"),
       "serve metrics, health, the JSON API, live events, the status page and the HTTP API "
       "(queries, start, terminate) here (port 0: any free one; '' turns it off); see "
       "docs/OPERATIONS.md \"Monitoring\" and docs/HTTP.md")
      ("http-token-file", po::value(&config.http_token_file)->value_name("FILE"),
       "every HTTP request must then carry `Authorization: Bearer <token>` of a token listed "
       "in FILE, one `<token> <admin|query> [name]` a line (query: queries and reads; admin: "
       "also start and terminate); needed to serve HTTP on an address other machines reach "
       "(or --insecure)")
      ("http-max-queries", po::value(&config.http_max_queries)->default_value(config.http_max_queries)->value_name("N"),
       "HTTP API queries running at once (each holds a thread while it waits); more are "
       "answered 429 busy")
      ("watch-queue-limit", po::value(&config.watch_queue_limit)->default_value(config.watch_queue_limit)->value_name("N"),
       "events queued for a `watch` client that does not read fast enough (beyond what its "
       "socket holds); past it the watch ends with busy")
      ("ha-etcd", po::value(&ha_etcd)->value_name("URLS"),
       "high availability: elect the leader of the brokers of one cluster through etcd at "
       "these http://HOST:PORT endpoints (comma-separated); only the leader serves, standbys "
       "answer not_leader; see docs/OPERATIONS.md \"High availability\"")
      ("ha-name", po::value(&config.ha.name)->value_name("NAME"),
       "this broker's name in the cluster (needed with --ha-etcd)")
      ("ha-cluster", po::value(&config.ha.cluster)->default_value(config.ha.cluster)->value_name("NAME"),
       "the cluster whose leader this broker may become (its etcd keys live under "
       "/ccmesh/NAME/)")
      ("ha-ttl-ms", po::value(&ha_ttl_ms)->default_value(2000)->value_name("N"),
       "the leader's etcd lease: a leader that cannot renew it stops serving within N ms, and a "
       "standby takes over once etcd lets it lapse (etcd counts in whole seconds)")
      ("ha-advertise-frontend", po::value(&config.ha.advertise_frontend)->value_name("ENDPOINT"),
       "where clients on other machines reach this broker's frontend (default: as bound)")
      ("ha-advertise-backend", po::value(&config.ha.advertise_backend)->value_name("ENDPOINT"),
       "where workers on other machines reach this broker's backend (default: as bound)")
      ("log-format", po::value(&log_format)->default_value("text")->value_name("F"),
       kLogFormatHelp);
  // clang-format on
  po::variables_map vm;
  if (!loader.load(argc, argv, vm)) return false;
  config.heartbeat = Millis(heartbeat_ms);
  config.fence_margin = Millis(fence_margin_ms);
  config.pending_timeout = Millis(pending_timeout_ms);
  config.ha.ttl = Millis(ha_ttl_ms);
  config.ha.etcd = splitEndpoints(ha_etcd);
  log_level = vm["log-level"].as<std::string>();
  return true;
}

// http://HOST:PORT -> HOST:PORT.
std::string hostPort(const std::string& url) {
  const auto scheme = url.find("://");
  return scheme == std::string::npos ? url : url.substr(scheme + 3);
}

}  // namespace

int main(int argc, char** argv) {
  broker::BrokerConfig config;
  std::string sessions_path;
  std::string ready_file;
  std::string log_level;
  std::string log_format;
  SessionsFile declared;
  try {
    if (!loadConfig(argc, argv, config, sessions_path, ready_file, log_level, log_format)) {
      return 0;
    }
    setupLogging(log_level, parseLogFormat(log_format));
    broker::validateConfig(config);
    if (!sessions_path.empty()) declared = readSessionsFile(sessions_path);
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-broker: " << e.what() << "\n";
    return 2;
  }
  auto logger = componentLogger("broker");
  if (config.insecure && config.curve_secret_file.empty()) {
    logger->warn(
        "--insecure: endpoints may be reachable from other machines WITHOUT "
        "authentication; anyone who connects can run commands through the workers");
  }
  try {
    SignalPipe signals({SIGTERM, SIGINT, SIGHUP});
    // A data directory over a file size limit (ulimit -f) is a write error the transcript
    // store counts and reports, not a reason to die.
    ::signal(SIGXFSZ, SIG_IGN);
    zmq::context_t context(1);
    // The HTTP API's clients are sockets of this context too (three each: a DEALER and its
    // handshake monitor's pair), one per query running and per idle one kept.
    context.set(zmq::ctxopt::max_sockets, static_cast<int>(std::max<std::size_t>(
                                              1023, 3 * (config.http_max_queries + 80) + 64)));
    SteadyClock clock;
    // A leader that stops serving starts over with a fresh broker on the same endpoints.
    for (bool first = true;; first = false) {
      broker::Broker broker(config, context, clock);
      std::unique_ptr<broker::BrokerMonitor> monitor;
      if (!config.http.empty()) {
        monitor = std::make_unique<broker::BrokerMonitor>(
            broker, monitoring::HttpOptions{config.http, config.http_token_file, config.insecure,
                                            config.http_max_queries});
        logger->info("status page: {}/", monitor->url());
      }
      broker.addSessions(declared.sessions);
      broker.addPools(declared.pools);
      if (first && !ready_file.empty()) {
        writeReadyFile(ready_file, {{"frontend", broker.frontendEndpoint()},
                                    {"backend", broker.backendEndpoint()},
                                    {"http", monitor ? monitor->url() : std::string()}});
      }
      if (!broker.run(signals)) break;
      // Wildcard ports resolved: the next broker binds the same ones.
      config.frontend = broker.frontendEndpoint();
      config.backend = broker.backendEndpoint();
      if (monitor) config.http = hostPort(monitor->url());
    }
  } catch (const ConfigError& e) {
    std::cerr << "ccmesh-broker: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    logger->critical("fatal: {}", e.what());
    return 1;
  }
  return 0;
}
