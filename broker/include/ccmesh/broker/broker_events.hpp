#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "ccmesh/common/clock.hpp"

// What happened in the broker: every change the broker core makes to its sessions, workers,
// requests and pools is announced as one of these, in order, numbered. Observers (the
// status counters, metrics, a live feed, replication) learn the cluster from them alone.
namespace ccmesh::broker::event {

// A name became known: started by a client, declared in a sessions file, created by a
// pool, or reported by a worker after a broker restart (`adopted`).
struct SessionRegistered {
  std::string session;
  std::string pool;     // the pool it was created for, if any
  std::string creator;  // allow-list name of the client that started it; empty if unknown
  bool adopted = false;
};

// A name was given to a worker under a new generation (state starting).
struct SessionPlaced {
  std::string session;
  std::string worker;
  uint64_t generation = 0;
};

// A placed name went to another worker than its previous one: by `move` (`requested`) or
// because its worker died or lost it (failover).
struct SessionMoved {
  std::string session;
  std::string from;  // the worker it left
  std::string to;    // the worker it went to
  uint64_t generation = 0;
  bool requested = false;
};

// The session's state as the broker shows it changed (pending, starting, idle, busy, ...).
struct SessionStateChanged {
  std::string session;
  std::string from;
  std::string to;
};

// Its CLI exited without being asked to (the worker restarts it while its budget allows).
struct SessionCrashed {
  std::string session;
  std::string worker;
  std::string reason;
  uint32_t restarts = 0;  // restarts since placement, this one included
};

// A client's `restart` took effect.
struct SessionRestarted {
  std::string session;
  std::string worker;
  bool keep_history = false;
};

// The worker gave up on it (too many crashes): queries get session_failed.
struct SessionFailed {
  std::string session;
  std::string worker;
  std::string reason;
};

// The name is gone: terminated, or its start failed.
struct SessionTerminated {
  std::string session;
  std::string reason;
};

// A worker registered (`again`: an id the broker already knew, e.g. reconnecting).
struct WorkerJoined {
  std::string worker;
  uint32_t capacity = 0;
  std::map<std::string, std::string> labels;
  bool again = false;
  uint64_t reported_sessions = 0;  // sessions its `ready` reported holding
};

// Why a worker was declared dead, in one word (a metric's label).
enum class LossCause {
  kSilence,       // no message within its lease (and the fence margin)
  kDisconnect,    // its connection closed: a send found it unreachable
  kStalled,       // it stopped reading: its send queue is full
  kBye,           // it said goodbye (clean shutdown)
  kReplaced,      // its connection now speaks for another worker id
  kUnauthorized,  // its key left the workers' allow-list
};

// "silence", "disconnect", "stalled", "bye", "replaced", "unauthorized".
std::string_view causeName(LossCause cause);

// A worker was declared dead (silence, bye, unreachable, replaced); its names move.
struct WorkerLost {
  std::string worker;
  LossCause cause = LossCause::kSilence;
  std::string reason;     // for people: "silent for more than 400 ms", ...
  uint64_t sessions = 0;  // names it hosted
};

// A worker was told to stop a copy of a session it must not run (an older generation).
struct WorkerFenced {
  std::string worker;
  std::string session;
  uint64_t generation = 0;
};

// A query was accepted (it waits in the broker until its session is placed).
struct QueryAdmitted {
  uint64_t request = 0;  // the broker's id of the query
  std::string session;
  std::string pool;  // pool_query: the pool (`session` is the member)
};

// The worker said the query's prompt reached the CLI (it is never run again elsewhere).
struct QueryDelivered {
  uint64_t request = 0;
  std::string session;
  std::string worker;
};

// A query ended: `outcome` is "ok" or the error code it ended with.
struct QueryFinished {
  uint64_t request = 0;
  std::string session;
  std::string pool;
  std::string worker;  // where it ran last; empty if it never left the broker
  std::string model;   // the session's `model` option; empty: the CLI's default
  std::string outcome;
  Millis duration{0};                         // from acceptance to the end
  std::optional<Millis> time_to_first_delta;  // when a delta came back
  double cost_usd = 0;                        // as the CLI reported it (0: not reported)
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
};

struct PoolCreated {
  std::string pool;
  uint32_t size = 0;
  bool owned = true;  // it creates its members (false: it groups existing sessions)
};

struct PoolResized {
  std::string pool;
  uint32_t from = 0;
  uint32_t to = 0;
};

struct PoolDeleted {
  std::string pool;
};

// A member was checked out under `lease_id`.
struct MemberCheckedOut {
  std::string pool;
  std::string member;
  uint64_t lease_id = 0;
  Millis lease{0};
};

// A checked-out member came back by `pool_checkin`.
struct MemberCheckedIn {
  std::string pool;
  std::string member;
};

// A checkout's lease lapsed: the broker took the member back.
struct MemberReclaimed {
  std::string pool;
  std::string member;
};

// Why the broker refused a message (each kind is a `status` counter).
enum class Refusal {
  kMalformed,         // frames or body could not be used
  kStale,             // a worker message about another generation or placement
  kUnauthorized,      // key not (or no longer) allowed, or wrong role
  kWorkerIdRefused,   // a worker key spoke for another worker id
  kHandshakeRefused,  // a CURVE handshake with an unknown key
};

// "malformed", "stale", "unauthorized", "worker_id_refused", "handshake_refused".
std::string_view refusalName(Refusal kind);

// A message was refused and counted.
struct MessageRefused {
  Refusal kind = Refusal::kMalformed;
  std::string peer;  // who sent it, as the logs name it
};

// The CURVE allow-lists were read again (SIGHUP); `ok` false: a file did not parse and the
// lists in force stay.
struct AllowListsReloaded {
  bool ok = true;
};

// A session's CLI asked whether a tool may run, and the question went to the client of the
// query that was running (permission_handler client).
struct PermissionAsked {
  uint64_t request = 0;  // the broker's id of the query
  std::string session;
  std::string pool;
  std::string worker;
  std::string tool;
  std::string question;  // the CLI's id of the question
};

// A tool question was decided (by whom: `decided_by`, e.g. "client alice", "policy
// allow:Read", "timeout", "handler deny", "cancelled").
struct PermissionDecided {
  uint64_t request = 0;  // the broker's id of the query (0: none was running)
  std::string session;
  std::string worker;
  std::string tool;
  std::string question;
  bool allowed = false;
  std::string decided_by;
  std::string message;  // denied: the reason the model was given
};

// A `budget` request changed the cluster-side budget of a session or a pool.
struct BudgetChanged {
  std::string name;  // the session or pool
  std::string kind;  // session or pool
  double budget_usd = 0;
  double spent_usd = 0;
  bool reset = false;  // its count started again from zero
};

// A query was refused budget_exhausted: the budget of its session (or its pool) is spent.
struct BudgetExhausted {
  std::string session;  // the session asked (empty for a pool query)
  std::string pool;     // the pool asked, or the session's pool whose budget is spent
  std::string why;
};

using Body = std::variant<SessionRegistered, SessionPlaced, SessionMoved, SessionStateChanged,
                          SessionCrashed, SessionRestarted, SessionFailed, SessionTerminated,
                          WorkerJoined, WorkerLost, WorkerFenced, QueryAdmitted, QueryDelivered,
                          QueryFinished, PoolCreated, PoolResized, PoolDeleted, MemberCheckedOut,
                          MemberCheckedIn, MemberReclaimed, MessageRefused, AllowListsReloaded,
                          PermissionAsked, PermissionDecided, BudgetChanged, BudgetExhausted>;

// The event's name in snake_case ("session_placed"), for logs and feeds.
std::string_view name(const Body& body);

}  // namespace ccmesh::broker::event

namespace ccmesh::broker {

// One announced change: numbered from 1 in the order the core made them, stamped with the
// broker's clock.
struct BrokerEvent {
  uint64_t seq = 0;
  TimePoint at{};
  event::Body body;
};

// Receives every event of a broker, in order, on the broker's loop thread. It must return
// quickly and never block (queue work for another thread if it has any), and must not call
// back into the broker.
class BrokerObserver {
 public:
  virtual ~BrokerObserver() = default;
  virtual void onEvent(const BrokerEvent& event) = 0;
};

}  // namespace ccmesh::broker
