#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <memory>
#include <msgpack.hpp>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ccmesh/broker/broker_config.hpp"
#include "ccmesh/broker/broker_stats.hpp"
#include "ccmesh/broker/placement_policy.hpp"
#include "ccmesh/broker/request_table.hpp"
#include "ccmesh/broker/session_registry.hpp"
#include "ccmesh/broker/transcript_store.hpp"
#include "ccmesh/broker/worker_table.hpp"
#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/replies.hpp"
#include "outbox.hpp"
#include "pool_hooks.hpp"
#include "recovery_window.hpp"

namespace ccmesh::broker {

// The broker's shared machinery over its tables: places names on workers, forwards and
// finishes requests, and moves names and requests off workers that died. The client and
// worker message handlers both act through it; it never touches a socket except via the
// Outbox, and takes time from the injected Clock.
class SessionRouter {
 public:
  SessionRouter(const BrokerConfig& config, const Clock& clock, SessionRegistry& sessions,
                WorkerTable& workers, RequestTable& requests, TranscriptStore& transcripts,
                Outbox& outbox, BrokerStats& stats, std::shared_ptr<spdlog::logger> logger);

  // The tables and services the handlers share.
  const BrokerConfig& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  SessionRegistry& sessions() { return sessions_; }
  WorkerTable& workers() { return workers_; }
  RequestTable& requests() { return requests_; }
  TranscriptStore& transcripts() { return transcripts_; }
  Outbox& outbox() { return outbox_; }
  BrokerStats& stats() { return stats_; }
  spdlog::logger& log() { return *logger_; }
  // The start-up window in which workers may still report sessions (after a restart).
  RecoveryWindow& recovery() { return recovery_; }

  // Places a name that has no worker on the best live worker that carries the labels it
  // requires, with a new generation, sends `assign` (id = request_id; 0 wants no reply),
  // then forwards the queries waiting for it. False if no worker has room, or while the
  // broker is recovering and no worker has ever reported the name (generation 0).
  // A worker to `avoid` gets it only when no other has room.
  bool place(const std::string& name, uint64_t request_id = 0, const std::string& avoid = {});

  // Places every pending name that fits (a worker joined or got room).
  void placePending();

  // `move`, second step: the old copy has stopped; places the name on `worker` with the next
  // generation, carrying its transcript, and answers request `request_id` once it runs.
  void moveTo(const std::string& name, const std::string& worker, uint64_t request_id);

  // Puts a query in its session's broker queue (arrival order) with a waiting deadline.
  void enqueueWaiting(SessionEntry& entry, BrokerRequest& request);

  // Forwards every query waiting in the broker for a placed session, oldest first.
  void forwardWaiting(SessionEntry& entry);

  // Forwards one query to the session's worker with its generation and remaining time.
  void forwardQuery(BrokerRequest& request, const SessionEntry& entry);

  // Sends to a worker by id, never blocking. A worker that cannot be reached (or is a
  // million messages behind) is marked lost. False if not sent.
  bool toWorker(const std::string& worker_id, MessageType type, const msgpack::sbuffer& body);
  template <class T>
  bool toWorkerBody(const std::string& worker_id, MessageType type, const T& body) {
    return toWorker(worker_id, type, encodeBody(body));
  }

  // A transcript batch of `entries` entries was stored whole: its ack waits for the next
  // heartbeat to the worker, unless the entries held back reach kAckEveryEntries.
  static constexpr uint64_t kAckEveryEntries = 256;
  void holdAck(WorkerEntry& worker, const msg::TranscriptAck& ack, uint64_t entries);
  // An ack that must go now (the broker lacks entries: the worker acts on it at once).
  void sendAck(WorkerEntry& worker, const msg::TranscriptAck& ack);

  // True if client `client` (routing id) has request `id` in flight: one in the
  // RequestTable, or a pool checkout waiting for a member. What `ping` reports on.
  bool holds(const std::string& client, uint64_t id);

  // Answers `duplicate_id` if client `client` already has request `id` in flight (see
  // holds()): the new request is refused, the one in flight goes on. True if so.
  bool refuseDuplicateId(const std::string& client, uint64_t id);

  // Answers a request that is not tracked (rejected at once) with `error`.
  void replyError(const std::string& client, uint64_t client_id, ErrorCode code,
                  std::string message, std::string session = {}, std::string partial = {});

  // Ends a tracked request with `error` (carrying its partial answer) and forgets it.
  void failRequest(uint64_t request_id, ErrorCode code, std::string message);

  // Ends a tracked request with a reply already encoded for the client, and forgets it.
  void finishRequest(uint64_t request_id, MessageType type, msgpack::sbuffer body);

  // Ends a start / terminate / restart with an Ack describing the session now.
  void ackRequest(uint64_t request_id, std::string_view state);

  // Takes stock after a worker lost some or all of what it held: requests forwarded to it
  // on sessions it no longer holds end with worker_lost (prompt delivered) or go back to
  // their session's broker queue (not delivered); its sessions not in `still_held`
  // (nullptr: none) become pending and are re-placed with a new generation.
  // With `not_before` in the future the names wait, pending, until then (see
  // SessionEntry::not_before).
  void recoverFrom(const std::string& worker_id, const std::set<std::string>* still_held,
                   TimePoint not_before = {});

  // When names held back by recoverFrom's `not_before` may be placed; nullopt if none are.
  std::optional<TimePoint> nextRelease() const { return release_at_; }

  // Removes a dead worker and moves its names and requests (see recoverFrom).
  void dropWorker(const std::string& worker_id, std::string_view why);

  // A client vanished: forget its waiting queries, cancel the forwarded ones on their
  // workers, and stop sending it replies.
  void dropClient(const std::string& client);

  // Handles workers and clients found unreachable since the last call.
  void reapLost();

  // Marks workers silent for one worker expiry (workerExpiry()) as lost; places the names
  // held back once the recovery window ends.
  void checkLiveness(TimePoint now);

  // Sends every worker a heartbeat carrying the last seq received from it.
  void sendHeartbeats();

  // Sends one worker a heartbeat at once (an ack, or a probe: unreachable marks it lost).
  void sendHeartbeat(const std::string& worker_id);

  // A worker no longer holds `name` (it says the session stopped, or does not know it): the
  // name moves like a dead worker's, with the requests forwarded for it.
  void relocate(const std::string& worker_id, const std::string& name, std::string_view why);

  // Answers requests whose deadline passed: unavailable (never placed) or timeout.
  void expireRequests(TimePoint now);

  // A session as `info` and `list` show it.
  msg::SessionInfo describe(const SessionEntry& entry) const;

  // Lets the pools see pool queries' final replies and adopted sessions (nullptr: none).
  void setPoolHooks(PoolHooks* hooks) { pool_hooks_ = hooks; }

  // A worker's report made the registry adopt `entry`: tells the pools.
  void noteAdopted(const SessionEntry& entry) {
    if (pool_hooks_ != nullptr) pool_hooks_->onSessionAdopted(entry);
  }

 private:
  // Places a session on a chosen worker (see place()).
  void placeOn(SessionEntry& entry, const std::string& worker, uint64_t request_id);
  // Live workers and their loads, for the placement policy.
  std::vector<PlacementCandidate> candidates() const;
  // Forgets a request, taking it out of its session's broker queue too.
  std::optional<BrokerRequest> forget(uint64_t request_id);
  // Ends every query waiting in a session's broker queue with `code`.
  void failWaiting(SessionEntry& entry, ErrorCode code, const std::string& message);
  // When the broker gives up on a forwarded query.
  TimePoint forwardedDeadline(const BrokerRequest& request, const SessionEntry& entry) const;

  const BrokerConfig& config_;                             // tuning
  const Clock& clock_;                                     // time for deadlines and liveness
  SessionRegistry& sessions_;                              // name -> placement
  WorkerTable& workers_;                                   // live workers
  RequestTable& requests_;                                 // requests in flight
  TranscriptStore& transcripts_;                           // sessions' transcripts
  Outbox& outbox_;                                         // every send
  BrokerStats& stats_;                                     // counters
  std::shared_ptr<spdlog::logger> logger_;                 // "broker" component logger
  std::unordered_map<std::string, std::string> lost_why_;  // lost worker -> reason
  RecoveryWindow recovery_;                                // see recovery()
  PoolHooks* pool_hooks_ = nullptr;                        // the pools, if any
  std::optional<TimePoint> release_at_;                    // see nextRelease()
};

}  // namespace ccmesh::broker
