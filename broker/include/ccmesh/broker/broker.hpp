#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/broker/access_control.hpp"
#include "ccmesh/broker/broker_config.hpp"
#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/broker/broker_stats.hpp"
#include "ccmesh/broker/pool_registry.hpp"
#include "ccmesh/broker/request_table.hpp"
#include "ccmesh/broker/session_registry.hpp"
#include "ccmesh/broker/transcript_store.hpp"
#include "ccmesh/broker/worker_table.hpp"
#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "ccmesh/monitoring/loop_mailbox.hpp"

namespace ccmesh {
class SignalPipe;
}  // namespace ccmesh

namespace ccmesh::broker {

class BrokerCore;
class ClientRequestHandler;
class DeclarationReplica;
class DisconnectWatch;
class LeaderElection;
struct ElectionView;
class Outbox;
class PoolRequestHandler;
class RateLimitedLog;
class ShownEvents;
class StatusCounters;
class WatchFeed;
class WorkerMessageHandler;
class ZapAuthenticator;

// ccmesh-broker: binds the frontend (clients) and backend (workers) ROUTER sockets and runs
// one single-threaded zmq::poll loop over them plus a few timers (heartbeats, liveness,
// request deadlines). No locks: every table belongs to this loop. All objects of one
// Broker must be used from one thread.
class Broker {
 public:
  // Binds both endpoints (wildcard ports allowed) and reads the transcripts of the data
  // directory. Throws ConfigError if an endpoint cannot be bound or the directory made. `context`
  // and `clock` must outlive the broker.
  Broker(BrokerConfig config, zmq::context_t& context, const Clock& clock);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Registers sessions declared in a sessions file, pending until workers have room.
  void addSessions(const std::vector<SessionSpec>& specs);

  // Creates the pools declared in a sessions file (after addSessions); problems are logged.
  void addPools(const std::vector<PoolSpec>& specs);

  // The endpoints as bound, with wildcard ports resolved (tcp://127.0.0.1:PORT).
  const std::string& frontendEndpoint() const { return frontend_endpoint_; }
  const std::string& backendEndpoint() const { return backend_endpoint_; }
  // The frontend's in-process endpoint (inproc://...), for clients of this process that share
  // context(): the HTTP API. Their requests act with the admin role; they check their own
  // callers.
  const std::string& localEndpoint() const { return local_endpoint_; }
  zmq::context_t& context() { return context_; }

  // One loop iteration: waits up to `max_wait` (less if a timer is due) for input on the
  // sockets or on `wake_fd` (-1: none), handles a batch of messages from each socket, runs
  // due timers and retries queued client replies. True if `wake_fd` became readable (the
  // caller reads it).
  bool pollOnce(Millis max_wait, int wake_fd = -1);

  // Loops until SIGTERM or SIGINT arrives on `signals` (then false); SIGHUP rereads the
  // allow-lists. With high availability it also ends (true) when this broker stops serving
  // as leader: everything it holds is stale then, so the caller starts a fresh Broker on the
  // same endpoints, which campaigns again as a standby.
  bool run(SignalPipe& signals);

  // With high availability (config.ha): this broker is the leader and serves now. Always
  // true for a single broker.
  bool serving() const { return serving_; }
  // High availability as `status` shows it (empty role for a single broker).
  msg::HaStatus haStatus() const;

  // Reads the CURVE allow-lists again (SIGHUP): new handshakes and every later message are
  // checked against them; connections stay up. On a bad file the lists in force stay.
  void reloadAllowLists();

  // Every change of the broker's state is announced to `observer` from now on, in order,
  // on the loop's thread (see BrokerObserver). `observer` must outlive the broker or call
  // stopObserving first.
  void observe(BrokerObserver& observer);
  void stopObserving(BrokerObserver& observer);

  const BrokerConfig& config() const { return config_; }

  // The counters `status` reports.
  BrokerStats stats() const;

  // What `status`, `list`, `count` and `pool_list` answer now (id 0).
  msg::StatusResult status() const;
  msg::ListResult list() const;
  msg::CountResult count() const;
  msg::PoolListResult poolList() const;
  // Clients running `watch`.
  std::size_t watchers() const;
  // The events as the feeds show them, rendered once for all (`watch`, /events).
  ShownEvents& shownEvents() { return *shown_; }

  // Jobs other threads post to run on the loop (the HTTP endpoint's); pollOnce runs them.
  monitoring::LoopMailbox& mailbox() { return mailbox_; }
  const SessionRegistry& sessions() const;
  const WorkerTable& workers() const;
  const RequestTable& requests() const;
  const PoolRegistry& pools() const;
  const TranscriptStore& transcripts() const;

 private:
  // Reads and handles up to `budget` messages from one socket.
  void drain(zmq::socket_t& socket, bool from_clients, int budget);
  // Handles one raw message; any exception is caught, logged and counted.
  void handleMessage(std::vector<zmq::message_t>& frames, bool from_clients);
  // Drops the clients and workers found unreachable since the last call.
  void reapLost();
  // Handles a decoded client request after checking it against the caller's role and quotas.
  void handleClient(const Caller& caller, const std::string& routing_id, const Envelope& envelope);
  // Handles a client's `query` read in place (ClientRequestHandler::readQuery), as
  // handleClient would; false, with nothing done, for anything readQuery does not take.
  bool queryInPlace(const Caller& caller, const std::string& routing_id,
                    std::span<const zmq::message_t> message);
  // Refuses a reused request id, then checks request `id` of type `type` against the
  // caller's role and quotas; false when it was answered with an error.
  bool admitted(const Caller& caller, const std::string& routing_id, MessageType type, uint64_t id);
  // Answers a message whose sender's key is not (or no longer) allowed on its port.
  void refuseUnknownKey(const std::string& routing_id, bool from_clients, uint64_t id);
  // Answers frames that could not be decoded.
  void rejectFrames(const std::string& routing_id, bool from_clients, uint64_t id,
                    const Error& error);
  // Heartbeats, liveness and deadlines that are due.
  void runTimers();
  // How long the loop may sleep before a timer is due.
  Millis untilNextTimer() const;
  // Starts or stops serving as the election says (high availability).
  void followElection();
  // Serving, and the term has not run out (checked before each message).
  bool stillServing();
  // How a standby (or a deposed leader) answers any message: not_leader naming the leader,
  // or unavailable while none is known.
  void answerAsStandby(const std::string& routing_id, bool from_clients, const Envelope& envelope);
  // While a client request that declares something (a session or pool made, changed or
  // removed) is handled, every message to its client waits until etcd holds what it
  // declared: holdForDeclarations before handling it (nothing for other requests, or
  // without high availability), settleDeclarations after.
  struct DeclarationHold {
    uint64_t before = 0;                    // the replica's last declaration then
    std::optional<std::string> terminated;  // a session a terminate takes away
  };
  std::optional<DeclarationHold> holdForDeclarations(const std::string& client,
                                                     const Envelope& envelope);
  void settleDeclarations(const std::string& client, const DeclarationHold& hold);
  // Releases the clients whose declarations etcd now holds.
  void releaseDeclared();

  BrokerConfig config_;                                    // tuning
  zmq::context_t& context_;                                // of both sockets
  const Clock& clock_;                                     // time for every timer
  std::shared_ptr<spdlog::logger> logger_;                 // "broker" component logger
  zmq::socket_t frontend_;                                 // clients' ROUTER (bound)
  zmq::socket_t backend_;                                  // workers' ROUTER (bound)
  std::string frontend_endpoint_;                          // frontend as bound
  std::string backend_endpoint_;                           // backend as bound
  std::string local_endpoint_;                             // frontend, in-process
  TimePoint started_;                                      // for uptime
  TimePoint next_heartbeat_;                               // when heartbeats go out next
  std::unique_ptr<RateLimitedLog> warnings_;               // rate-limited warnings about peers
  std::unique_ptr<Outbox> outbox_;                         // every send
  std::unique_ptr<BrokerCore> core_;                       // the state machine
  std::unique_ptr<StatusCounters> counters_;               // `status` counters, from events
  std::unique_ptr<ShownEvents> shown_;                     // events rendered for the feeds
  std::unique_ptr<WatchFeed> feed_;                        // `watch` clients, from events
  std::unique_ptr<AccessControl> access_;                  // allow-lists, roles, quotas
  std::unique_ptr<ZapAuthenticator> zap_;                  // ZAP handler (CURVE only)
  std::unique_ptr<ClientRequestHandler> clients_;          // session requests
  std::unique_ptr<PoolRequestHandler> pools_handler_;      // pool requests
  std::unique_ptr<WorkerMessageHandler> workers_handler_;  // worker messages
  std::unique_ptr<DisconnectWatch> disconnects_;           // closed worker connections
  std::vector<zmq::message_t> frames_;                     // receive buffer, reused
  monitoring::LoopMailbox mailbox_;                        // jobs from other threads
  std::unique_ptr<LeaderElection> election_;               // with --ha-etcd only
  std::unique_ptr<ElectionView> election_view_;            // as last read
  uint64_t election_version_ = 0;                          // election_->version() then
  // Clients whose replies wait for a declaration to reach etcd: routing id -> its number
  // (see holdUntilDeclared).
  std::unordered_map<std::string, uint64_t> held_clients_;
  std::unique_ptr<DeclarationReplica> replica_;  // writes declarations while leading
  bool serving_ = true;                          // see serving()
  bool deposed_ = false;                         // served, and stopped: run() ends
};

}  // namespace ccmesh::broker
