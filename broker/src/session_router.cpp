#include "session_router.hpp"

#include <algorithm>
#include <map>

#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/worker_messages.hpp"

namespace ccmesh::broker {

SessionRouter::SessionRouter(const BrokerConfig& config, const Clock& clock,
                             SessionRegistry& sessions, WorkerTable& workers,
                             RequestTable& requests, TranscriptStore& transcripts, Outbox& outbox,
                             BrokerStats& stats, std::shared_ptr<spdlog::logger> logger)
    : config_(config),
      clock_(clock),
      sessions_(sessions),
      workers_(workers),
      requests_(requests),
      transcripts_(transcripts),
      outbox_(outbox),
      stats_(stats),
      logger_(std::move(logger)),
      recovery_(clock.now(), workerExpiry(config)) {}

bool SessionRouter::place(const std::string& name, uint64_t request_id, const std::string& avoid) {
  auto* entry = sessions_.find(name);
  if (!entry || !entry->worker.empty() || entry->terminating) return false;
  // A worker that has not reconnected yet may run a name no worker has reported.
  if (entry->generation == 0 && recovery_.recovering(clock_.now())) return false;
  if (clock_.now() < entry->not_before) return false;  // its old copy may still run
  auto list = candidates();
  if (!avoid.empty() && list.size() > 1) {
    auto others = list;
    std::erase_if(others, [&avoid](const auto& candidate) { return candidate.id == avoid; });
    if (PlacementPolicy::choose(others, entry->options.require)) list = std::move(others);
  }
  auto chosen = PlacementPolicy::choose(list, entry->options.require);
  if (!chosen) return false;
  placeOn(*entry, list[*chosen].id, request_id);
  return true;
}

void SessionRouter::placePending() {
  if (sessions_.pendingCount() == 0 || workers_.size() == 0) return;
  const TimePoint now = clock_.now();
  const bool recovering = recovery_.recovering(now);
  PlacementPolicy policy(candidates());
  const std::vector<std::string> names(sessions_.pendingNames().begin(),
                                       sessions_.pendingNames().end());
  std::size_t placed = 0;
  for (const auto& name : names) {
    auto* entry = sessions_.find(name);
    if (!entry || !entry->worker.empty() || entry->terminating) continue;
    if (recovering && entry->generation == 0) continue;  // see place()
    if (now < entry->not_before) continue;               // see place()
    auto worker = policy.pick(entry->options.require);
    if (!worker) {
      if (entry->options.require.empty()) break;  // every worker is full
      continue;                                   // none with its labels has room
    }
    placeOn(*entry, *worker, 0);
    ++placed;
  }
  if (placed > 0) {
    logger_->info("placed {} pending session(s); {} still pending", placed,
                  sessions_.pendingCount());
  }
}

void SessionRouter::placeOn(SessionEntry& entry, const std::string& worker, uint64_t request_id) {
  const uint64_t generation = sessions_.place(entry.name, worker);
  logger_->debug("[session {}] placed on [worker {}] generation {}", entry.name, worker,
                 generation);
  if (auto* request = requests_.find(request_id)) {
    request->worker = worker;
    request->generation = generation;
    requests_.setDeadline(request_id, clock_.now() + config_.control_timeout);
  }
  msg::Assign assign{request_id, entry.name, generation, entry.options};
  // The conversation goes with the name (docs/SESSIONS.md "What survives which failure"),
  // unless the session began another one since (a restart without history) that has no
  // entries yet. A copy that is not whole goes too, but the session says it was cut rather
  // than answer as if nothing were missing; a cut the session had already goes on with it.
  if (const Transcript* transcript = transcripts_.get(entry.name);
      transcript != nullptr &&
      (entry.session_id.empty() || entry.session_id == transcript->session_id)) {
    if (!transcript->entries.empty()) {
      assign.session_id = transcript->session_id;
      assign.transcript = TranscriptStore::jsonl(*transcript);
    }
    assign.cut = transcript->cutReason();
    logger_->info("[session {}] its transcript ({} entries, {} bytes) goes to [worker {}]{}{}",
                  entry.name, transcript->entries.size(), assign.transcript.size(), worker,
                  assign.cut.empty() ? "" : ": ", assign.cut);
    if (!assign.transcript.empty()) transcripts_.continueFrom(entry.name);
  }
  if (assign.cut.empty()) assign.cut = entry.cut;
  entry.cut = assign.cut;
  if (!entry.last_worker.empty()) {
    assign.moved_from = entry.last_worker;
  } else if (!assign.transcript.empty()) {
    assign.moved_from = "(a worker of an earlier broker)";
  }
  toWorkerBody(worker, MessageType::kAssign, assign);
  forwardWaiting(entry);
}

void SessionRouter::moveTo(const std::string& name, const std::string& worker,
                           uint64_t request_id) {
  auto* entry = sessions_.find(name);
  if (entry == nullptr) return;
  sessions_.unplace(name);  // remembers the worker it leaves; clears `moving`
  logger_->info("[session {}] moves from [worker {}] to [worker {}]", name, entry->last_worker,
                worker);
  placeOn(*entry, worker, request_id);
}

std::vector<PlacementCandidate> SessionRouter::candidates() const {
  std::vector<PlacementCandidate> list;
  list.reserve(workers_.size());
  for (const auto& [id, worker] : workers_.entries()) {
    if (worker.lost) continue;
    list.push_back(
        {id, worker.capacity, sessions_.countOn(id), &worker.labels, worker.max_live, worker.live});
  }
  return list;
}

void SessionRouter::enqueueWaiting(SessionEntry& entry, BrokerRequest& request) {
  request.worker.clear();
  request.delivered = false;
  const auto now = clock_.now();
  auto deadline = now + config_.pending_timeout;
  if (request.query.timeout_ms > 0) {
    deadline = request.accepted_at + Millis(request.query.timeout_ms);
  }
  requests_.setDeadline(request.id, deadline);
  // Broker ids grow with arrival, so sorting by id keeps mailbox order even when queries
  // come back from a dead worker.
  auto at = std::lower_bound(entry.waiting.begin(), entry.waiting.end(), request.id);
  if (at == entry.waiting.end() || *at != request.id) entry.waiting.insert(at, request.id);
}

void SessionRouter::forwardWaiting(SessionEntry& entry) {
  while (!entry.worker.empty() && !entry.moving && !entry.waiting.empty()) {
    const uint64_t id = entry.waiting.front();
    entry.waiting.pop_front();
    if (auto* request = requests_.find(id)) forwardQuery(*request, entry);
  }
}

void SessionRouter::forwardQuery(BrokerRequest& request, const SessionEntry& entry) {
  msg::Query query = request.query;
  query.id = request.id;
  query.session = entry.name;
  query.generation = entry.generation;
  if (request.query.timeout_ms > 0) {
    // The client's deadline runs from receipt: pass on what is left of it.
    const auto left = std::chrono::duration_cast<Millis>(
        request.accepted_at + Millis(request.query.timeout_ms) - clock_.now());
    query.timeout_ms = static_cast<uint64_t>(std::max<int64_t>(1, left.count()));
  }
  request.worker = entry.worker;
  request.generation = entry.generation;
  request.delivered = false;
  requests_.setDeadline(request.id, forwardedDeadline(request, entry));
  toWorkerBody(entry.worker, MessageType::kQuery, query);
}

TimePoint SessionRouter::forwardedDeadline(const BrokerRequest& request,
                                           const SessionEntry& entry) const {
  if (request.query.timeout_ms > 0) {
    return request.accepted_at + Millis(request.query.timeout_ms) + config_.backstop_grace;
  }
  if (entry.options.query_timeout_ms > 0) {
    return clock_.now() + Millis(entry.options.query_timeout_ms) + config_.backstop_grace;
  }
  return clock_.now() + config_.backstop_default;
}

bool SessionRouter::toWorker(const std::string& worker_id, MessageType type,
                             const msgpack::sbuffer& body) {
  auto* worker = workers_.find(worker_id);
  if (!worker || worker->lost) return false;
  switch (outbox_.toWorker(worker->routing_id, type, body)) {
    case SendStatus::kSent:
      return true;
    case SendStatus::kUnreachable:
      lost_why_[worker_id] = "unreachable (disconnected)";
      break;
    case SendStatus::kWouldBlock:
      lost_why_[worker_id] = "not reading (its send queue is full)";
      break;
  }
  worker->lost = true;
  return false;
}

bool SessionRouter::holds(const std::string& client, uint64_t id) {
  if (requests_.findByClient(client, id) != nullptr) return true;
  return pool_hooks_ != nullptr && pool_hooks_->holdsCheckout(client, id);
}

bool SessionRouter::refuseDuplicateId(const std::string& client, uint64_t id) {
  if (!holds(client, id)) return false;
  replyError(client, id, ErrorCode::kDuplicateId,
             "request id " + std::to_string(id) +
                 " is already in flight from this client; this request was refused, that one "
                 "goes on");
  return true;
}

void SessionRouter::replyError(const std::string& client, uint64_t client_id, ErrorCode code,
                               std::string message, std::string session, std::string partial) {
  outbox_.toClientBody(client, MessageType::kError,
                       msg::ErrorReply{client_id, std::string(errorCodeName(code)),
                                       std::move(message), std::move(partial), std::move(session)});
}

void SessionRouter::failRequest(uint64_t request_id, ErrorCode code, std::string message) {
  auto request = forget(request_id);
  if (!request || request->client_gone) return;
  replyError(request->client, request->client_id, code, std::move(message), request->session,
             std::move(request->partial));
}

void SessionRouter::finishRequest(uint64_t request_id, MessageType type, msgpack::sbuffer body) {
  if (auto* pending = requests_.find(request_id);
      pending && !pending->pool.empty() && pool_hooks_ != nullptr &&
      pool_hooks_->onPoolQueryReply(*pending, type, body)) {
    return;  // a pool member refused it: the pools retry it elsewhere
  }
  auto request = forget(request_id);
  if (!request || request->client_gone) return;
  outbox_.toClient(request->client, type, std::move(body));
}

void SessionRouter::ackRequest(uint64_t request_id, std::string_view state) {
  auto* request = requests_.find(request_id);
  if (!request) return;
  msg::Ack ack{request->client_id, request->session, {}, request->generation, std::string(state)};
  if (const auto* entry = sessions_.find(request->session)) {
    ack.worker = entry->worker;
    ack.generation = entry->generation;
  }
  finishRequest(request_id, MessageType::kResult, encodeBody(ack));
}

std::optional<BrokerRequest> SessionRouter::forget(uint64_t request_id) {
  auto request = requests_.take(request_id);
  if (request && request->worker.empty() && request->kind == RequestKind::kQuery) {
    if (auto* entry = sessions_.find(request->session)) {
      auto& waiting = entry->waiting;
      waiting.erase(std::remove(waiting.begin(), waiting.end(), request_id), waiting.end());
    }
  }
  return request;
}

void SessionRouter::failWaiting(SessionEntry& entry, ErrorCode code, const std::string& message) {
  const std::vector<uint64_t> ids(entry.waiting.begin(), entry.waiting.end());
  for (uint64_t id : ids) failRequest(id, code, message);
}

msg::SessionInfo SessionRouter::describe(const SessionEntry& entry) const {
  msg::SessionInfo info;
  info.name = entry.name;
  info.worker = entry.worker;
  info.generation = entry.generation;
  info.state = entry.terminating && entry.state != session_state::kStopped
                   ? std::string(session_state::kStopping)
                   : entry.state;
  info.pid = entry.pid;
  info.session_id = entry.session_id;
  info.restarts = entry.restarts;
  info.queue_depth = requests_.queriesOf(entry.name);
  info.turns = entry.turns;
  info.last_error = entry.last_error;
  info.config = entry.options;
  info.creator = entry.creator;
  info.recycles = entry.recycles;
  info.rss_kb = entry.rss_kb;
  if (const Transcript* transcript = transcripts_.peek(entry.name)) {
    info.transcript_bytes = transcript->bytes;
    info.transcript_entries = transcript->count;
    info.transcript_last_ms = transcript->last_entry_ms;
    info.transcript_complete = transcript->complete();
  }
  info.cut = entry.cut;
  if (entry.last_used_at != TimePoint{}) {
    const auto idle = std::chrono::duration_cast<Millis>(clock_.now() - entry.last_used_at);
    info.last_used_ms = static_cast<uint64_t>(std::max<int64_t>(0, idle.count()));
  }
  return info;
}

}  // namespace ccmesh::broker
