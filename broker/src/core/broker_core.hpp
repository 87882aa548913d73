#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <map>
#include <memory>
#include <msgpack.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ccmesh/broker/broker_config.hpp"
#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/broker/placement_policy.hpp"
#include "ccmesh/broker/pool_registry.hpp"
#include "ccmesh/broker/pool_selector.hpp"
#include "ccmesh/broker/request_table.hpp"
#include "ccmesh/broker/session_registry.hpp"
#include "ccmesh/broker/transcript_store.hpp"
#include "ccmesh/broker/worker_table.hpp"
#include "ccmesh/common/body_fields.hpp"
#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/permission_messages.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "ccmesh/common/worker_messages.hpp"
#include "core/event_bus.hpp"
#include "core/peer_sender.hpp"
#include "recovery_window.hpp"

namespace ccmesh::broker {

// What a query's `result` says the turn spent; QueryFinished reports it.
struct ResultFigures {
  double cost_usd = 0;
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
};

// The broker's state machine: the only code that changes its sessions, workers, requests,
// pools and transcripts. Handlers decode and check a message, then call one verb named after
// the domain; the verb changes the tables, sends what must be sent through the PeerSender and
// announces every change on the EventBus. Everything else reads the tables through const
// views. It never touches a socket and takes time from the injected Clock, so tests drive it
// with calls alone (docs/SESSIONS.md draws its states and names the verbs).
class BrokerCore {
 public:
  // `transcripts` is loaded already; `sender` and `clock` must outlive the core.
  BrokerCore(const BrokerConfig& config, const Clock& clock, PeerSender& sender,
             std::unique_ptr<TranscriptStore> transcripts, std::shared_ptr<spdlog::logger> logger);

  // Numbers the broker's requests from `first` on: ids unique to this incarnation, so that
  // replies a worker still holds for a broker that died never match a request of this one.
  void startRequestIdsAt(uint64_t first) { requests_.startIdsAt(first); }

  // ---- What it knows (read-only) ----
  const BrokerConfig& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  const SessionRegistry& sessions() const { return sessions_; }
  const WorkerTable& workers() const { return workers_; }
  const RequestTable& requests() const { return requests_; }
  const PoolRegistry& pools() const { return pools_; }
  const TranscriptStore& transcripts() const { return *transcripts_; }
  const RecoveryWindow& recovery() const { return recovery_; }
  spdlog::logger& log() const { return *logger_; }
  // Where observers subscribe.
  EventBus& events() { return events_; }
  // A session as `info` and `list` show it; a pool as `pool_info` shows it.
  msg::SessionInfo describe(const SessionEntry& entry) const;
  msg::PoolInfo describe(const PoolEntry& pool) const;
  // True if client `client` (routing id) has request `id` in flight: one in the
  // RequestTable, or a pool checkout waiting for a member. What `ping` reports on.
  bool holds(const std::string& client, uint64_t id) const;
  // A session's transcript with its entries in memory (read back from its file if it was
  // evicted: a cache, not a change of state); nullptr if there is none.
  const Transcript* readTranscript(const std::string& session) {
    return transcripts_->get(session);
  }
  // When the next timer of the core is due (request or pool deadline, a worker's expiry,
  // names held back, the end of the recovery window); nullopt if none.
  std::optional<TimePoint> nextDeadline() const;

  // ---- Replies that change nothing ----
  // Answers a request that is not tracked (refused at once) with `error`.
  void replyError(const std::string& client, uint64_t client_id, ErrorCode code,
                  std::string message, std::string session = {}, std::string partial = {});
  // Sends a client a final reply.
  template <class T>
  void reply(const std::string& client, MessageType type, const T& body) {
    sender_.toClient(client, type, encodeBody(body));
  }
  // Tells a worker (by routing id; it may not be registered) what went wrong.
  void replyToWorker(const std::string& routing_id, MessageType type,
                     const msgpack::sbuffer& body) {
    sender_.toWorker(routing_id, type, body);
  }
  // Answers not_found for a session name that is not registered (or is being terminated),
  // or unavailable while workers may still report it (RecoveryWindow::uncertain).
  void notFound(const std::string& client, uint64_t id, const std::string& name);
  // A message was refused (counted by observers of MessageRefused).
  void refused(event::Refusal kind, std::string peer);
  // The allow-lists were read again (or not).
  void allowListsReloaded(bool ok) { events_.emit(event::AllowListsReloaded{ok}); }

  // ---- Leadership (broker_core_leadership.cpp; high availability) ----
  // This broker leads from now on, in `term`: what it sends workers carries the term, and
  // the workers of the previous leader report their sessions within one worker expiry, so
  // the recovery window starts now.
  void takeLeadership(uint64_t term);
  // This broker stops serving: every request in flight and every waiting checkout ends
  // `unavailable` with `why` (its fate is unknown: the client may ask the new leader).
  void stepDown(const std::string& why);
  // The leader's term; 0: a single broker.
  uint64_t term() const { return term_; }
  // What the previous leaders declared at runtime (read from etcd when this term began):
  // sessions (with their creators) and pools come back pending, until the workers that run
  // them report them.
  void restore(const std::vector<SessionSpec>& sessions, const std::vector<std::string>& creators,
               const std::vector<PoolSpec>& pools);

  // ---- Client verbs (broker_core_requests.cpp) ----
  // Sessions of a sessions file: registered, pending until workers have room.
  void declare(const std::vector<SessionSpec>& specs);
  // Answers `duplicate_id` if client `client` already has request `id` in flight (here, or
  // `held_elsewhere`: a watch): the new request is refused, the one in flight goes on. True
  // if so.
  bool refuseDuplicateId(const std::string& client, uint64_t id, bool held_elsewhere = false);
  // `query`: queued in the broker until its session is placed, then forwarded.
  void admitQuery(const std::string& client, const msg::QueryView& query);
  // `cancel`: a waiting query or checkout ends `cancelled`; a forwarded one is cancelled on
  // its worker. Unknown ids are ignored.
  void cancel(const std::string& client, uint64_t id);
  // `start` by `creator` (allow-list name; empty without CURVE).
  void start(const std::string& client, const msg::Start& start, const std::string& creator);
  void terminate(const std::string& client, const msg::Terminate& terminate);
  void restart(const std::string& client, const msg::Restart& restart);
  // `set`: the session's worker changes its CLI's model or permission mode; once it
  // confirms, the broker keeps them in the session's options (a move or failover keeps them).
  void set(const std::string& client, const msg::Set& set);
  // `context`: asks the session's CLI how full its context is; its answer is the result.
  void askContext(const std::string& client, const msg::ContextRequest& context);
  // `move`, first step: stops the copy on its worker (queries wait in the broker meanwhile);
  // settleReply() takes the next step when it answers.
  void beginMove(const std::string& client, const msg::Move& move);
  // A client vanished: its waiting queries are forgotten, forwarded ones cancelled on their
  // workers, and no reply goes to it any more.
  void clientLost(const std::string& client);

  // ---- Cost and budgets (broker_core_usage.cpp) ----
  // `usage`: one row per session, pool, worker or model.
  void usage(const std::string& client, const msg::UsageRequest& request);
  // `budget`: reads or changes a session's or a pool's cluster-side budget.
  void budget(const std::string& client, const msg::BudgetRequest& request);
  // What the turns a worker ran used since this broker started (zeros if none).
  Usage workerUsage(const std::string& worker) const;
  // Every registered session's usage added up.
  Usage totalUsage() const;
  // Queries the broker refused budget_exhausted since it started.
  uint64_t budgetRefusals() const { return budget_refusals_; }

  // ---- Pool verbs (broker_core_pools.cpp, broker_core_checkouts.cpp) ----
  // Pools of a sessions file (after its sessions); problems are logged.
  void declarePools(const std::vector<PoolSpec>& specs);
  void createPool(const std::string& client, const msg::PoolCreate& create,
                  const std::string& creator);
  void submitPoolQuery(const std::string& client, const msg::PoolQuery& query);
  // Longest lease a checkout may ask for (a longer one is refused, never cut short), and
  // the lease of one that asks for none.
  static constexpr Millis kMaxLease{24 * 60 * 60 * 1000};
  static constexpr Millis kDefaultLease{60000};
  void checkout(const std::string& client, const std::string& caller,
                const msg::PoolCheckout& checkout);
  void checkin(const std::string& client, const std::string& caller,
               const msg::PoolCheckin& checkin);
  void resizePool(const std::string& client, const msg::PoolResize& resize,
                  const std::string& creator);
  void deletePool(const std::string& client, const msg::PoolNamed& remove);
  // The pool a request names, or nullptr after answering bad_request, not_found or
  // unavailable (recovering).
  const PoolEntry* findPool(const std::string& client, uint64_t id, const std::string& name);

  // ---- Worker verbs (broker_core_workers.cpp) ----
  // `ready`: registers (or refreshes) worker `id` on `routing_id`, answers `welcome`,
  // adopts or fences the sessions it reports, moves what it no longer holds.
  void workerJoined(const std::string& routing_id, const std::string& id, const msg::Ready& ready);
  // Any message from a registered worker: it is alive.
  void heardFrom(const std::string& worker_id);
  void heartbeatFrom(const std::string& worker_id, uint64_t seq);
  void loadFrom(const std::string& worker_id, const msg::Load& load);
  void sessionUpdate(const std::string& worker_id, const msg::SessionUpdate& update);
  void markDelivered(const std::string& worker_id, uint64_t request_id);
  // A streamed `event` (decoded as `event`, raw in `envelope`) goes to its client.
  void relayEvent(const std::string& worker_id, const Envelope& envelope, const msg::Event& event);
  // The same, read in place (id, seq, kind, text: see WorkerMessageHandler::handleInPlace):
  // the client's copy is the body with only its id replaced.
  void relayEvent(const std::string& worker_id, const BodyFields& event);
  // A final `result` (raw in `envelope`) settles its request: relayed to its client, or the
  // next step of a `move`.
  void settleResult(const std::string& worker_id, const Envelope& envelope);
  // The same, read in place (id, cost_usd, input_tokens, output_tokens, pool: see
  // WorkerMessageHandler::handleInPlace), for the result of a query this worker runs: the
  // client's copy is the body with its id (and a pool query's `pool`) replaced. False, and
  // nothing done, for any other request; the decoded message settles those.
  bool settleResult(const std::string& worker_id, const BodyFields& result);
  // A final `error` (decoded as `error`, raw in `envelope`) settles its request, or sends it
  // on: a pool member's refusal to another member, a query the worker lost with its session.
  void settleError(const std::string& worker_id, const Envelope& envelope,
                   const msg::ErrorReply& error);
  void appendTranscript(const std::string& worker_id, msg::TranscriptAppend batch);
  // ---- Tool approval (broker_core_permissions.cpp) ----
  // A session's question (decoded as `question`, raw in `envelope`) goes to the client of
  // its query; with that client gone, the worker gets a deny at once.
  void relayPermissionRequest(const std::string& worker_id, const Envelope& envelope,
                              const msg::PermissionRequest& question);
  // The answer of client `client` (named `caller` in logs and events) goes to the worker
  // running that query. Answers for queries not running are dropped.
  void answerPermission(const std::string& client, const std::string& caller,
                        msg::PermissionReply reply);
  // How a question was decided: logged, and an event.
  void notePermissionDecision(const std::string& worker_id,
                              const msg::PermissionDecision& decision);
  // A transcript batch the handler refused (`why`): counted, not stored, not acknowledged.
  void refuseTranscript(const std::string& worker_id, const msg::TranscriptAppend& batch,
                        std::string_view why);
  void fetchTranscript(const std::string& worker_id, const msg::TranscriptFetch& fetch);
  // A worker is gone (bye, key removed, connection taken over, unreachable, silent): its
  // names and requests move to live workers.
  void workerLost(const std::string& worker_id, event::LossCause cause, std::string_view why);

  // ---- Timers (broker_core_failover.cpp) ----
  // Marks silent workers lost, places names held back once their time comes, answers
  // requests and checkouts whose deadline passed, reclaims lapsed leases.
  void expire(TimePoint now);
  // Sends every worker that has not heard from the broker for an interval a heartbeat.
  void sendHeartbeats();
  // Sends one worker a heartbeat at once (a probe: unreachable marks it lost).
  void probe(const std::string& worker_id) { sendHeartbeat(worker_id); }
  // Drops the workers found unreachable since the last call.
  void reapLost();

  // Transcript acks of batches stored whole wait for the next heartbeat, unless the entries
  // held back reach this many.
  static constexpr uint64_t kAckEveryEntries = 256;

 private:
  // broker_core.cpp: placement, forwarding, replies.
  bool place(const std::string& name, uint64_t request_id = 0, const std::string& avoid = {});
  void placePending();
  // Puts the names with queries waiting first, each group in its order: a worker spawns a
  // few CLIs per loop round, in the order the names arrive, so prompts do not wait behind
  // names that only start.
  void promptedFirst(std::vector<std::string>& names) const;
  void placeOn(SessionEntry& entry, const std::string& worker, uint64_t request_id);
  void moveTo(const std::string& name, const std::string& worker, uint64_t request_id);
  std::vector<PlacementCandidate> candidates() const;
  void enqueueWaiting(BrokerRequest& request);
  void forwardWaiting(SessionEntry& entry);
  void forwardQuery(BrokerRequest& request, const SessionEntry& entry);
  TimePoint forwardedDeadline(const BrokerRequest& request, const SessionEntry& entry) const;
  bool toWorker(const std::string& worker_id, MessageType type, const msgpack::sbuffer& body);
  template <class T>
  bool toWorkerBody(const std::string& worker_id, MessageType type, const T& body) {
    return toWorker(worker_id, type, encodeBody(body));
  }
  void markLost(WorkerEntry& worker, event::LossCause cause, std::string why);
  BrokerRequest* addRequest(const std::string& client, uint64_t client_id, RequestKind kind,
                            const std::string& session, TimePoint deadline);
  void failRequest(uint64_t request_id, ErrorCode code, std::string message);
  // Ends a tracked request with a reply encoded for the client; `outcome` ("ok" or an
  // error code) and a result's `figures` are what QueryFinished reports.
  void finishRequest(uint64_t request_id, MessageType type, msgpack::sbuffer body,
                     std::string_view outcome = "ok", const ResultFigures& figures = {});
  void ackRequest(uint64_t request_id, std::string_view state);
  std::optional<BrokerRequest> forget(uint64_t request_id, std::string_view outcome,
                                      const ResultFigures& figures = {});
  void failWaiting(SessionEntry& entry, ErrorCode code, const std::string& message);
  // A pool query's result: its member served one more.
  void countServed(const BrokerRequest& request);
  // Why a name (`what`: "session NAME", "pool NAME") the broker does not know yet gets
  // `unavailable`.
  std::string recoveringMessage(const std::string& what) const;
  // Registry changes, each announced.
  bool registerSession(const std::string& name, const SessionOptions& options,
                       const std::string& creator);
  void removeSession(const std::string& name, std::string_view reason);
  void unplace(SessionEntry& entry);
  void setState(SessionEntry& entry, std::string_view state);
  void applyUpdate(SessionEntry& entry, const msg::SessionUpdate& update);
  void sendTerminate(SessionEntry& entry, BrokerRequest& request);

  // broker_core_workers.cpp
  void adoptReport(WorkerEntry& worker, const msg::SessionReport& report,
                   std::set<std::string>& held);
  void fence(const std::string& worker_id, const std::string& session, uint64_t generation);
  BrokerRequest* requestFrom(const std::string& worker_id, uint64_t id, std::string_view type);
  // Takes note of an `event` of request `id` (its partial answer); the request whose
  // client gets it, or null when none does.
  BrokerRequest* takeEvent(const std::string& worker_id, uint64_t id, std::string_view kind,
                           std::string_view text);
  // A request of `client` for the current copy of `entry`, on its way to that copy's worker
  // (answered by the broker at control_timeout if the worker does not).
  BrokerRequest* addForwarded(const std::string& client, uint64_t id, RequestKind kind,
                              const SessionEntry& entry);
  // A confirmed `set` becomes part of the session's options.
  void applySettings(SessionEntry& entry, const msg::Set& set);
  void settleAck(BrokerRequest& request, const std::string& worker_id, const Envelope& envelope);
  void finishMove(BrokerRequest& request);
  void askForMissingEntries(WorkerEntry& worker, const msg::SessionUpdate& update);
  void holdAck(WorkerEntry& worker, const msg::TranscriptAck& ack, uint64_t entries);
  void sendAck(WorkerEntry& worker, const msg::TranscriptAck& ack);
  void sendHeartbeat(const std::string& worker_id);

  // broker_core_failover.cpp
  void recoverFrom(const std::string& worker_id, const std::set<std::string>* still_held,
                   TimePoint not_before = {});
  void relocate(const std::string& worker_id, const std::string& name, std::string_view why);
  void checkLiveness(TimePoint now);
  void expireRequests(TimePoint now);

  // broker_core_usage.cpp
  // Takes the usage a worker reports for `entry`; what grew since is counted for its worker
  // and model.
  void takeUsage(SessionEntry& entry, const Usage& reported);
  // Why a query for `entry` is refused budget_exhausted (its budget, or its pool's, is
  // spent); nothing if it may run. Counts the refusal.
  std::optional<std::string> budgetSpent(const SessionEntry& entry);
  std::optional<std::string> poolBudgetSpent(const PoolEntry& pool);
  // A pool's members' usage added up, and what its budget counts.
  Usage poolUsage(const PoolEntry& pool) const;
  double poolSpent(const PoolEntry& pool) const;
  // Changes the budget of a session, or of a pool and every member, in the broker only.
  msg::BudgetResult changeBudget(SessionEntry& entry, const msg::BudgetRequest& request);
  msg::BudgetResult changeBudget(PoolEntry& pool, const msg::BudgetRequest& request);
  // The placed sessions whose budget a pool (or `name`, resolved as `budget` does: a
  // session, else a pool) decides, by worker.
  using BudgetCopies = std::map<std::string, std::vector<const SessionEntry*>>;
  BudgetCopies budgetCopies(const PoolEntry& pool) const;
  BudgetCopies budgetCopies(const std::string& name) const;
  // Tells `worker` the budgets of `copies`, which it keeps for its reports; the last update
  // asks it to confirm request `confirm_id` (0: nothing to confirm). A worker handles its
  // messages in order, so that one confirmation covers them all.
  void sendBudgets(const std::string& worker, const std::vector<const SessionEntry*>& copies,
                   uint64_t confirm_id);
  // `worker` keeps the change of `request` (a kBudget), or holds no copy it concerns any more
  // (the next placement of those names carries the broker's budget): answered once no
  // worker is left to confirm.
  void budgetConfirmed(BrokerRequest& request, const std::string& worker);
  // `worker` registered again (`still_runs`) or was lost while `request` waited for it.
  void budgetWorkerRecovered(BrokerRequest& request, const std::string& worker, bool still_runs);
  // broker_core_forks.cpp
  // The conversation a fork of `source` continues: not_found for an unknown session,
  // bad_request for one with no turn yet, conversation_incomplete when the broker's copy of
  // its conversation is not whole.
  Expected<ForkOrigin, Error> forkOrigin(const std::string& source);
  // What the assign of a fork carries: the origin's conversation, to fork.
  static void forkIn(msg::Assign& assign, const ForkOrigin& origin);

  // broker_core_pools.cpp, broker_core_checkouts.cpp
  Expected<PoolEntry*, Error> addPool(const PoolSpec& spec, bool strict, const std::string& creator,
                                      const ForkOrigin* fork = nullptr);
  // `fork`: the members it starts fork that conversation (docs/SESSIONS.md "Forks").
  std::optional<Error> resizeMembers(PoolEntry& pool, uint32_t size, const std::string& creator,
                                     const ForkOrigin* fork = nullptr);
  void stopMembers(PoolEntry& pool);
  void adoptIntoPool(const SessionEntry& entry);
  void startMember(PoolEntry& pool, uint32_t index, const std::string& creator,
                   const ForkOrigin* fork = nullptr);
  void terminateMember(const std::string& name);
  bool retryPoolQuery(BrokerRequest& request, std::string_view code);
  bool dispatchPoolQuery(const std::string& client, PoolEntry& pool, msg::Query query,
                         std::vector<std::string> refused, TimePoint accepted_at);
  void poolExhausted(const std::string& client, uint64_t client_id, PoolEntry& pool);
  PoolMember* pickMember(PoolEntry& pool, const std::vector<std::string>& refused);
  PoolMember* pickIdle(PoolEntry& pool);
  bool grant(const WaitingCheckout& checkout, PoolEntry& pool);
  void grantWaiting(PoolEntry& pool);
  void failWaitingCheckouts(PoolEntry& pool, ErrorCode code, const std::string& message);
  void expireCheckouts(TimePoint now);

  const BrokerConfig& config_;                    // tuning
  const Clock& clock_;                            // time for deadlines and liveness
  PeerSender& sender_;                            // every send
  std::shared_ptr<spdlog::logger> logger_;        // "broker" component logger
  EventBus events_;                               // announces every change
  SessionRegistry sessions_;                      // name -> placement
  WorkerTable workers_;                           // live workers
  RequestTable requests_;                         // requests in flight
  PoolRegistry pools_;                            // pools of sessions
  PoolSelector selector_;                         // pool strategies
  std::unique_ptr<TranscriptStore> transcripts_;  // sessions' transcripts
  RecoveryWindow recovery_;                       // see RecoveryWindow
  uint64_t term_ = 0;                             // see term()
  TimePoint started_at_;                          // when this core started
  std::vector<std::string> to_reap_;              // workers marked lost, not dropped yet
  msgpack::sbuffer relayed_;                      // the client's copy of an event, reused
  std::optional<TimePoint> release_at_;           // when names held back may be placed
  // The earliest a worker can have been silent too long (or before): workers are only ever
  // heard later, so until then checkLiveness need not walk them. Nullopt: walk next time.
  std::optional<TimePoint> silence_due_;
  uint64_t next_pool_terminate_ = 1;           // ids of the pools' own terminate requests
  std::map<std::string, Usage> worker_usage_;  // worker -> what its turns used (since start)
  std::map<std::string, Usage> model_usage_;   // model option -> what its turns used
  uint64_t budget_refusals_ = 0;               // queries refused budget_exhausted
};

}  // namespace ccmesh::broker
