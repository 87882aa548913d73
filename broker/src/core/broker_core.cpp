// BrokerCore: placement, forwarding, replies and the registry changes every verb shares.
#include "core/broker_core.hpp"

#include <algorithm>

namespace ccmesh::broker {
namespace {

// The state a worker reports for a session that restarted too often, and one whose CLI
// exited unasked.
constexpr std::string_view kFailedState = "failed";
constexpr std::string_view kCrashedState = "crashed";

}  // namespace

BrokerCore::BrokerCore(const BrokerConfig& config, const Clock& clock, PeerSender& sender,
                       std::unique_ptr<TranscriptStore> transcripts,
                       std::shared_ptr<spdlog::logger> logger)
    : config_(config),
      clock_(clock),
      sender_(sender),
      logger_(std::move(logger)),
      events_(clock),
      transcripts_(std::move(transcripts)),
      recovery_(clock.now(), workerExpiry(config)),
      started_at_(clock.now()) {
  // A name that goes (terminated, or its start failed) takes its transcript with it.
  sessions_.onRemove([this](const std::string& name) { transcripts_->remove(name); });
}

// ---- Registry changes: each one announced ----

bool BrokerCore::registerSession(const std::string& name, const SessionOptions& options,
                                 const std::string& creator) {
  if (!sessions_.add(name, options, creator)) return false;
  events_.emit(event::SessionRegistered{name, options.pool, creator, false});
  return true;
}

void BrokerCore::removeSession(const std::string& name, std::string_view reason) {
  if (sessions_.remove(name)) events_.emit(event::SessionTerminated{name, std::string(reason)});
}

void BrokerCore::unplace(SessionEntry& entry) {
  const std::string from = entry.state;
  sessions_.unplace(entry.name);  // remembers the worker it leaves; clears `moving`
  if (from != entry.state) events_.emit(event::SessionStateChanged{entry.name, from, entry.state});
}

void BrokerCore::setState(SessionEntry& entry, std::string_view state) {
  if (entry.state == state) return;
  const std::string from = std::move(entry.state);
  entry.state = state;
  events_.emit(event::SessionStateChanged{entry.name, from, entry.state});
}

void BrokerCore::applyUpdate(SessionEntry& entry, const msg::SessionUpdate& update) {
  const std::string from = entry.state;
  const uint32_t restarts = entry.restarts;
  SessionRegistry::applyUpdate(entry, update, clock_.now());
  takeUsage(entry, update.usage);
  // The fork's first turn wrote the history under its own conversation id, whose copy the
  // broker now holds: from here on it moves like any session.
  if (entry.fork && entry.turns > 0) entry.fork.reset();
  if (from == entry.state) return;
  events_.emit(event::SessionStateChanged{entry.name, from, entry.state});
  if (entry.state == kCrashedState || entry.restarts > restarts) {
    events_.emit(event::SessionCrashed{entry.name, entry.worker, entry.last_error, entry.restarts});
  }
  if (entry.state == kFailedState) {
    events_.emit(event::SessionFailed{entry.name, entry.worker, entry.last_error});
  }
}

// ---- Placement ----

bool BrokerCore::place(const std::string& name, uint64_t request_id, const std::string& avoid) {
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

void BrokerCore::placePending() {
  if (sessions_.pendingCount() == 0 || workers_.size() == 0) return;
  const TimePoint now = clock_.now();
  const bool recovering = recovery_.recovering(now);
  PlacementPolicy policy(candidates());
  std::vector<std::string> names(sessions_.pendingNames().begin(), sessions_.pendingNames().end());
  promptedFirst(names);
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

void BrokerCore::promptedFirst(std::vector<std::string>& names) const {
  std::stable_partition(names.begin(), names.end(), [this](const std::string& name) {
    return !requests_.waitingFor(name).empty();
  });
}

void BrokerCore::placeOn(SessionEntry& entry, const std::string& worker, uint64_t request_id) {
  const std::string from_state = entry.state;
  const uint64_t generation = sessions_.place(entry.name, worker);
  logger_->debug("[session {}] placed on [worker {}] generation {}", entry.name, worker,
                 generation);
  events_.emit(event::SessionPlaced{entry.name, worker, generation});
  if (from_state != entry.state) {
    events_.emit(event::SessionStateChanged{entry.name, from_state, entry.state});
  }
  if (!entry.last_worker.empty() && entry.last_worker != worker) {
    const auto* request = requests_.find(request_id);
    const bool requested = request != nullptr && request->kind == RequestKind::kMove;
    events_.emit(event::SessionMoved{entry.name, entry.last_worker, worker, generation, requested});
  }
  if (auto* request = requests_.find(request_id)) {
    request->worker = worker;
    request->generation = generation;
    requests_.setDeadline(request_id, clock_.now() + config_.control_timeout);
  }
  msg::Assign assign{request_id, entry.name, generation, entry.options};
  assign.usage = entry.usage;  // the worker counts on from it
  assign.term = term_;
  if (entry.fork) {
    forkIn(assign, *entry.fork);
    logger_->info("[session {}] forks conversation {} of session {} on [worker {}]", entry.name,
                  entry.fork->session_id, entry.fork->source, worker);
    if (!entry.last_worker.empty()) assign.moved_from = entry.last_worker;
    toWorkerBody(worker, MessageType::kAssign, assign);
    forwardWaiting(entry);
    return;
  }
  // The conversation goes with the name (docs/SESSIONS.md "What survives which failure"),
  // unless the session began another one since (a restart without history) that has no
  // entries yet. A copy that is not whole goes too, but the session says it was cut rather
  // than answer as if nothing were missing; a cut the session had already goes on with it.
  if (const Transcript* transcript = transcripts_->get(entry.name);
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
    if (!assign.transcript.empty()) transcripts_->continueFrom(entry.name);
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

void BrokerCore::moveTo(const std::string& name, const std::string& worker, uint64_t request_id) {
  auto* entry = sessions_.find(name);
  if (entry == nullptr) return;
  unplace(*entry);
  logger_->info("[session {}] moves from [worker {}] to [worker {}]", name, entry->last_worker,
                worker);
  placeOn(*entry, worker, request_id);
}

std::vector<PlacementCandidate> BrokerCore::candidates() const {
  std::vector<PlacementCandidate> list;
  list.reserve(workers_.size());
  // Both tables are sorted by worker id: one walk through each, no lookup per worker (a
  // fleet of a thousand workers made those most of a placement's cost).
  const auto& placements = sessions_.placements();
  auto hosted = placements.begin();
  for (const auto& [id, worker] : workers_.entries()) {
    while (hosted != placements.end() && hosted->first < id) ++hosted;
    if (worker.lost()) continue;
    const bool hosts = hosted != placements.end() && hosted->first == id;
    list.push_back({id, worker.capacity, hosts ? hosted->second.size() : 0, &worker.labels,
                    worker.max_live, worker.live});
  }
  return list;
}

// ---- Forwarding ----

void BrokerCore::enqueueWaiting(BrokerRequest& request) {
  requests_.wait(request);
  const auto now = clock_.now();
  auto deadline = now + config_.pending_timeout;
  if (request.query.timeout_ms > 0) {
    deadline = request.accepted_at + Millis(request.query.timeout_ms);
  }
  requests_.setDeadline(request.id, deadline);
}

void BrokerCore::forwardWaiting(SessionEntry& entry) {
  while (!entry.worker.empty() && !entry.moving) {
    const auto& waiting = requests_.waitingFor(entry.name);
    if (waiting.empty()) return;
    forwardQuery(*requests_.find(*waiting.begin()), entry);
  }
}

void BrokerCore::forwardQuery(BrokerRequest& request, const SessionEntry& entry) {
  // Packed from views: the prompt is not copied again.
  msg::QueryView query{request.id,           entry.name, request.query.prompt,
                       request.query.stream, 0,          entry.generation};
  if (request.query.timeout_ms > 0) {
    // The client's deadline runs from receipt: pass on what is left of it.
    const auto left = std::chrono::duration_cast<Millis>(
        request.accepted_at + Millis(request.query.timeout_ms) - clock_.now());
    query.timeout_ms = static_cast<uint64_t>(std::max<int64_t>(1, left.count()));
  }
  requests_.forward(request, entry.worker, entry.generation);
  requests_.setDeadline(request.id, forwardedDeadline(request, entry));
  toWorkerBody(entry.worker, MessageType::kQuery, query);
}

TimePoint BrokerCore::forwardedDeadline(const BrokerRequest& request,
                                        const SessionEntry& entry) const {
  if (request.query.timeout_ms > 0) {
    return request.accepted_at + Millis(request.query.timeout_ms) + config_.backstop_grace;
  }
  if (entry.options.query_timeout_ms > 0) {
    return clock_.now() + Millis(entry.options.query_timeout_ms) + config_.backstop_grace;
  }
  return clock_.now() + config_.backstop_default;
}

bool BrokerCore::toWorker(const std::string& worker_id, MessageType type,
                          const msgpack::sbuffer& body) {
  auto* worker = workers_.find(worker_id);
  if (!worker || worker->lost()) return false;
  switch (sender_.toWorker(worker->routing_id, type, body)) {
    case SendStatus::kSent:
      return true;
    case SendStatus::kUnreachable:
      markLost(*worker, event::LossCause::kDisconnect, "unreachable (disconnected)");
      break;
    case SendStatus::kWouldBlock:
      markLost(*worker, event::LossCause::kStalled, "not reading (its send queue is full)");
      break;
  }
  return false;
}

void BrokerCore::markLost(WorkerEntry& worker, event::LossCause cause, std::string why) {
  if (worker.lost()) return;
  worker.lost_why = std::move(why);  // placement skips it from now on
  worker.lost_cause = cause;
  to_reap_.push_back(worker.id);
}

// ---- Requests and replies ----

BrokerRequest* BrokerCore::addRequest(const std::string& client, uint64_t client_id,
                                      RequestKind kind, const std::string& session,
                                      TimePoint deadline) {
  return requests_.add(client, client_id, kind, session, clock_.now(), deadline);
}

bool BrokerCore::holds(const std::string& client, uint64_t id) const {
  return requests_.findByClient(client, id) != nullptr || pools_.isWaiting(client, id);
}

void BrokerCore::replyError(const std::string& client, uint64_t client_id, ErrorCode code,
                            std::string message, std::string session, std::string partial) {
  sender_.toClient(
      client, MessageType::kError,
      encodeBody(msg::ErrorReply{client_id, std::string(errorCodeName(code)), std::move(message),
                                 std::move(partial), std::move(session)}));
}

void BrokerCore::refused(event::Refusal kind, std::string peer) {
  events_.emit(event::MessageRefused{kind, std::move(peer)});
}

void BrokerCore::failRequest(uint64_t request_id, ErrorCode code, std::string message) {
  auto request = forget(request_id, errorCodeName(code));
  if (!request || request->client_gone) return;
  replyError(request->client, request->client_id, code, std::move(message), request->session,
             std::move(request->partial));
}

void BrokerCore::finishRequest(uint64_t request_id, MessageType type, msgpack::sbuffer body,
                               std::string_view outcome, const ResultFigures& figures) {
  auto request = forget(request_id, outcome, figures);
  if (!request || request->client_gone) return;
  sender_.toClient(request->client, type, std::move(body));
}

void BrokerCore::ackRequest(uint64_t request_id, std::string_view state) {
  auto* request = requests_.find(request_id);
  if (!request) return;
  msg::Ack ack{request->client_id, request->session, {}, request->generation, std::string(state)};
  if (const auto* entry = sessions_.find(request->session)) {
    ack.worker = entry->worker;
    ack.generation = entry->generation;
  }
  finishRequest(request_id, MessageType::kResult, encodeBody(ack));
}

std::optional<BrokerRequest> BrokerCore::forget(uint64_t request_id, std::string_view outcome,
                                                const ResultFigures& figures) {
  auto request = requests_.take(request_id);
  if (!request) return request;
  if (request->kind == RequestKind::kQuery) {
    event::QueryFinished finished;
    finished.request = request->id;
    finished.session = request->session;
    finished.pool = request->pool;
    finished.worker = request->worker;
    finished.outcome = outcome;
    auto* entry = sessions_.find(request->session);
    if (entry != nullptr) finished.model = entry->options.model;
    finished.duration = std::chrono::duration_cast<Millis>(clock_.now() - request->accepted_at);
    if (request->first_delta_at != TimePoint{}) {
      finished.time_to_first_delta =
          std::chrono::duration_cast<Millis>(request->first_delta_at - request->accepted_at);
    }
    finished.cost_usd = figures.cost_usd;
    finished.input_tokens = figures.input_tokens;
    finished.output_tokens = figures.output_tokens;
    events_.emit(std::move(finished));
  }
  return request;
}

void BrokerCore::failWaiting(SessionEntry& entry, ErrorCode code, const std::string& message) {
  const auto& waiting = requests_.waitingFor(entry.name);
  const std::vector<uint64_t> ids(waiting.begin(), waiting.end());
  for (uint64_t id : ids) failRequest(id, code, message);
}

void BrokerCore::notFound(const std::string& client, uint64_t id, const std::string& name) {
  if (!sessions_.find(name) && recovery_.uncertain(clock_.now())) {
    replyError(client, id, ErrorCode::kUnavailable, recoveringMessage("session " + name), name);
    return;
  }
  replyError(client, id, ErrorCode::kNotFound, "no session named " + name, name);
}

std::string BrokerCore::recoveringMessage(const std::string& what) const {
  const auto left = std::chrono::ceil<Millis>(recovery_.ends() - clock_.now());
  return "the broker has just started and workers may still report " + what + "; retry in " +
         std::to_string(std::max<int64_t>(0, left.count())) + " ms";
}

// ---- Views ----

msg::SessionInfo BrokerCore::describe(const SessionEntry& entry) const {
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
  if (const Transcript* transcript = transcripts_->peek(entry.name)) {
    info.transcript_bytes = transcript->bytes;
    info.transcript_entries = transcript->count;
    info.transcript_last_ms = transcript->last_entry_ms;
    info.transcript_complete = transcript->complete();
  }
  info.cut = entry.cut;
  info.cost_usd = entry.usage.cost_usd;
  info.usage = entry.usage;
  if (entry.last_used_at != TimePoint{}) {
    const auto idle = std::chrono::duration_cast<Millis>(clock_.now() - entry.last_used_at);
    info.last_used_ms = static_cast<uint64_t>(std::max<int64_t>(0, idle.count()));
  }
  return info;
}

std::optional<TimePoint> BrokerCore::nextDeadline() const {
  std::optional<TimePoint> next = requests_.nextDeadline();
  auto earliest = [&next](std::optional<TimePoint> other) {
    if (other && (!next || *other < *next)) next = other;
  };
  earliest(pools_.nextDeadline());
  if (silence_due_) earliest(*silence_due_ + Millis(1));
  earliest(release_at_);
  if (clock_.now() < recovery_.ends()) earliest(recovery_.ends());
  return next;
}

}  // namespace ccmesh::broker
