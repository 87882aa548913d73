#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"

namespace ccmesh::broker {

// What a client asked for; only requests that outlive one loop iteration are tracked.
enum class RequestKind { kQuery, kStart, kTerminate, kRestart, kMove, kSet, kContext, kBudget };

// A client request the broker has accepted and not yet answered.
// `id`, `client`, `client_id`, `session`, `kind` and `deadline` are indexed: change
// deadline only through RequestTable::setDeadline, the others never.
struct BrokerRequest {
  uint64_t id = 0;         // the broker's id: what workers see
  std::string client;      // routing id of the client on the frontend
  uint64_t client_id = 0;  // id the client chose; every reply carries it
  RequestKind kind = RequestKind::kQuery;
  std::string session;         // the session concerned
  TimePoint accepted_at{};     // when the broker received it
  TimePoint deadline{};        // when the broker stops waiting and answers it itself
  std::string worker;          // worker it was forwarded to; empty while it waits in the broker
                               // (and for kBudget: see confirming)
  uint64_t generation = 0;     // the session's generation when forwarded
  bool delivered = false;      // the worker said its prompt reached the CLI (never re-run)
  TimePoint first_delta_at{};  // when its first streamed delta came back ({}: none yet)
  bool client_gone = false;    // the client vanished: replies are processed, not sent
  msg::Query query;            // kQuery: the client's query (its id, timeout_ms, stream, ...)
  bool keep_history = false;   // kRestart: the client's keep_history
  msg::Set settings{};         // kSet: what the session is to change
  std::string move_to{};       // kMove while the old copy stops: the target worker (then empty)
  std::string partial;         // answer text seen in events so far (bounded)
  std::string pool{};          // kQuery sent through a pool: its name (empty otherwise)
  std::vector<std::string> pool_refused{};  // pool members that refused it: not tried again
  std::set<std::string> confirming{};       // kBudget: workers yet to keep the change
  msg::BudgetResult budget{};               // kBudget: the answer once they all have
};

// The requests in flight: broker id -> request, with indexes by (client, client id) for
// cancel, by deadline for expiry, and a count of queries per session for queue_depth.
class RequestTable {
 public:
  // Most partial text kept per request for worker_lost / timeout replies.
  static constexpr std::size_t kMaxPartialBytes = 4u << 20;

  // Adds a request under a fresh broker id (never 0). Nullptr when the client already has a
  // request with that id in flight.
  BrokerRequest* add(const std::string& client, uint64_t client_id, RequestKind kind,
                     const std::string& session, TimePoint now, TimePoint deadline);

  // Numbers the next requests from `first` (not 0) on; the broker starts from a value
  // unique to its incarnation.
  void startIdsAt(uint64_t first) { next_id_ = first == 0 ? 1 : first; }

  BrokerRequest* find(uint64_t id);
  BrokerRequest* findByClient(const std::string& client, uint64_t client_id);
  const BrokerRequest* findByClient(const std::string& client, uint64_t client_id) const;

  // Moves a request's deadline.
  void setDeadline(uint64_t id, TimePoint deadline);

  // Forgets a request and returns it.
  std::optional<BrokerRequest> take(uint64_t id);

  // Puts a query in its session's broker queue: it waits in the broker (worker empty, not
  // delivered) until forward(). Broker ids grow with arrival, so the queue keeps mailbox
  // order even for queries that come back from a dead worker.
  void wait(BrokerRequest& request);

  // Takes a query out of its session's broker queue: it goes to `worker` at `generation`.
  void forward(BrokerRequest& request, const std::string& worker, uint64_t generation);

  // Broker ids of a session's queries waiting in the broker, oldest first.
  const std::set<uint64_t>& waitingFor(const std::string& session) const;

  // Appends event text to a request's partial answer, up to kMaxPartialBytes.
  static void appendPartial(BrokerRequest& request, std::string_view text);

  // Ids of requests whose deadline is at or before `now`, earliest first.
  std::vector<uint64_t> expired(TimePoint now) const;

  // The earliest deadline, if any request is in flight.
  std::optional<TimePoint> nextDeadline() const;

  // Ids of requests forwarded to a worker (or, for kBudget, waiting for it to confirm), in
  // arrival order.
  std::vector<uint64_t> forwardedTo(const std::string& worker) const;

  // Ids of a client's requests.
  std::vector<uint64_t> ofClient(const std::string& client) const;

  // Queries of a session accepted and not finished (waiting, queued or running).
  uint32_t queriesOf(const std::string& session) const;

  // Requests of a client (routing id) in flight.
  std::size_t countOfClient(const std::string& client) const;

  std::size_t size() const { return requests_.size(); }
  // Every request in flight.
  std::vector<uint64_t> ids() const;

 private:
  uint64_t next_id_ = 1;                                            // next broker request id
  std::unordered_map<uint64_t, BrokerRequest> requests_;            // by broker id
  std::map<std::pair<std::string, uint64_t>, uint64_t> by_client_;  // (client, id) -> id
  std::set<std::pair<TimePoint, uint64_t>> by_deadline_;            // (deadline, id)
  std::unordered_map<std::string, uint32_t> queries_per_session_;   // session -> queries
  std::unordered_map<std::string, std::size_t> per_client_;         // client -> requests
  std::unordered_map<std::string, std::set<uint64_t>> waiting_;     // session -> queued queries

  // Takes a query out of its session's broker queue, if it is there.
  void unqueue(const BrokerRequest& request);
};

}  // namespace ccmesh::broker
