#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/limits.hpp"

namespace ccmesh::broker {

// High availability (docs/OPERATIONS.md "High availability"): brokers of one cluster elect
// a leader through etcd; only the leader serves. Off (a single broker) without etcd.
struct HaConfig {
  std::vector<std::string> etcd;   // --ha-etcd: http://HOST:PORT of etcd members; empty: off
  std::string name;                // --ha-name: this broker's name in the cluster
  std::string cluster = "ccmesh";  // --ha-cluster: brokers of one cluster elect one leader
  Millis ttl{2000};                // --ha-ttl-ms: the leader's lease
  // --ha-advertise-frontend / --ha-advertise-backend: where other machines reach this
  // broker's ports ("": as bound).
  std::string advertise_frontend;
  std::string advertise_backend;
  bool enabled() const { return !etcd.empty(); }
};

// Everything that tunes a broker. main() fills it from the command line, the environment
// and --config; tests build one by hand.
struct BrokerConfig {
  std::string frontend = "tcp://127.0.0.1:5555";  // clients connect here (ROUTER, bound)
  std::string backend = "tcp://127.0.0.1:5556";   // workers connect here (ROUTER, bound)
  Millis heartbeat{1000};  // interval of heartbeats both ways (told to workers in welcome)
  uint32_t liveness = 3;   // a worker silent for liveness x heartbeat + fence_margin is dead
  Millis fence_margin{0};  // added to liveness x heartbeat before a silent worker's names
                           // move, so its lease has surely lapsed; 0: one heartbeat
  std::size_t max_prompt_bytes = limits::kMaxPromptBytes;  // longer prompts: bad_request
  std::size_t pending_limit = 16;  // per session: queries waiting for a worker (full: busy)
  Millis pending_timeout{60000};   // a query waits this long for a worker when it has no
                                   // timeout of its own, then ends with unavailable
  Millis backstop_grace{5000};     // after a forwarded query's deadline, the broker waits
                                   // this long for the worker's answer, then says timeout
  Millis backstop_default{15 * 60 * 1000};  // deadline of a forwarded query with no timeout
  Millis control_timeout{60000};            // start / terminate / restart forwarded to a worker
  std::size_t client_backlog_limit = 4096;  // final replies queued for a client that does
                                            // not read; beyond this they are dropped
  std::size_t watch_queue_limit = 10000;    // events queued for a watcher that does not read
                                            // (after its socket's); beyond: cut off, `busy`
  Millis watch_gather{10};  // longest an event waits for others to go to a watcher with it
  bool insecure = false;    // allow binding non-loopback TCP addresses without CURVE keys
  // The HTTP endpoint (metrics, health, API, events, status page): HOST:PORT, "" for none.
  std::string http = "127.0.0.1:5557";
  std::string http_token_file;         // set: HTTP requests need one of this file's bearer tokens
  std::size_t http_max_queries = 128;  // HTTP API queries running at once; more get 429

  // The broker's CURVE secret key file; set: CURVE on both ports, with the two lists below.
  std::string curve_secret_file;
  // Client public keys with their roles (--clients-allow).
  std::string clients_allow_file;
  // Worker public keys (--workers-allow).
  std::string workers_allow_file;
  // Sessions one client key may have started (CURVE only); more starts get busy.
  std::size_t max_sessions_per_client = 1000;
  // Requests in flight per client key (without CURVE: per connection); more get busy.
  std::size_t max_pending_per_client = 1000;

  // Transcripts (docs/OPERATIONS.md "Transcripts"). With a data directory they are also kept
  // in DIR/transcripts, so a broker restart keeps them.
  std::string data_dir;                             // --data-dir ("": memory only)
  std::size_t transcript_max_bytes = 8u << 20;      // per session; oldest entries go
  std::size_t transcript_total_bytes = 512u << 20;  // in memory, all sessions

  HaConfig ha;  // leader election; off by default
};

// The largest --http-max-queries: each running query holds one of the endpoint's threads.
inline constexpr std::size_t kMaxHttpQueries = 1024;

// The largest --transcript-max-bytes: a transcript travels inside one `assign`.
inline constexpr std::size_t kMaxTranscriptBytes = 48u << 20;

// How long after the last message from a worker the broker declares it dead and moves its
// names: liveness x heartbeat (the worker's lease, counted from an earlier moment: when it
// sent the heartbeat last acknowledged) plus the fence margin.
Millis workerExpiry(const BrokerConfig& config);

// Checks a configuration before the broker starts; throws ConfigError naming the option.
// Workers run agents that execute commands, so a non-loopback TCP endpoint is refused
// without CURVE keys unless `insecure` is set (then main logs a loud warning).
void validateConfig(const BrokerConfig& config);

// True for endpoints only this machine can reach: ipc://, inproc://, and tcp:// on
// 127.0.0.0/8, [::1] or localhost.
bool isLocalEndpoint(std::string_view endpoint);

}  // namespace ccmesh::broker
