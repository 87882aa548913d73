// BrokerCore, continued: what workers tell the broker (registration, liveness, session
// state, replies, transcripts).
#include <algorithm>
#include <chrono>

#include "core/broker_core.hpp"
#include "reply_rewrite.hpp"

namespace ccmesh::broker {
namespace {

// A number a final `result` body carries under `key` (0 when absent or not a number).
template <class T>
T numberIn(const msgpack::object& body, std::string_view key) {
  if (body.type != msgpack::type::MAP) return T{};
  for (uint32_t i = 0; i < body.via.map.size; ++i) {
    const auto& pair = body.via.map.ptr[i];
    if (pair.key.type != msgpack::type::STR ||
        std::string_view(pair.key.via.str.ptr, pair.key.via.str.size) != key) {
      continue;
    }
    switch (pair.val.type) {
      case msgpack::type::POSITIVE_INTEGER:
        return static_cast<T>(pair.val.via.u64);
      case msgpack::type::FLOAT32:
      case msgpack::type::FLOAT64:
        return static_cast<T>(pair.val.via.f64);
      default:
        return T{};
    }
  }
  return T{};
}

}  // namespace

void BrokerCore::workerJoined(const std::string& routing_id, const std::string& id,
                              const msg::Ready& ready) {
  if (const auto* previous = workers_.findByRoutingId(routing_id); previous && previous->id != id) {
    workerLost(std::string(previous->id), event::LossCause::kReplaced,
               "its connection now belongs to worker " + id);
  }
  // A known, live worker id registering as a new process (not rejoining): the old process
  // may be frozen rather than dead, its CLIs running under its lease, which runs out at most
  // one worker expiry after the last message heard from it.
  TimePoint old_lease_end{};
  if (const auto* known = workers_.find(id); known && !known->lost() && !ready.rejoining) {
    old_lease_end = known->last_heard + workerExpiry(config_);
  }
  auto [worker, is_new] = workers_.upsert(id, routing_id);
  worker->capacity = ready.capacity;
  worker->labels = ready.labels;
  WorkerTable::applyLoad(*worker, msg::Load{ready.max_live, ready.live, ready.hibernated});
  worker->last_heard = clock_.now();
  worker->last_seq = ready.seq;
  recovery_.noteWorker(ready.rejoining, !ready.sessions.empty(), worker->last_heard);
  logger_->info("[worker {}] {}: capacity {}, reports {} session(s)", id,
                is_new ? "joined" : "registered again", ready.capacity, ready.sessions.size());
  events_.emit(
      event::WorkerJoined{id, ready.capacity, ready.labels, !is_new, ready.sessions.size()});
  toWorkerBody(id, MessageType::kWelcome,
               msg::Welcome{static_cast<uint64_t>(config_.heartbeat.count()), config_.liveness,
                            ready.seq, term_});
  std::set<std::string> held;
  for (const auto& report : ready.sessions) adoptReport(*worker, report, held);
  // Whatever the registry placed here that the worker no longer holds moves on, and its
  // requests with it.
  recoverFrom(id, &held, old_lease_end);
  placePending();
}

void BrokerCore::adoptReport(WorkerEntry& worker, const msg::SessionReport& report,
                             std::set<std::string>& held) {
  const auto& update = report.update;
  auto* entry = sessions_.find(update.session);
  const uint64_t generation = update.generation;
  if (entry && entry->worker == worker.id && entry->generation == generation) {
    applyUpdate(*entry, update);
    askForMissingEntries(worker, update);
    held.insert(update.session);
    return;
  }
  const bool newer = !entry || generation > entry->generation ||
                     (generation == entry->generation && entry->worker.empty());
  if (!newer || (entry && entry->terminating)) {
    refused(event::Refusal::kStale, worker.id);
    fence(worker.id, update.session, generation);
    return;
  }
  if (entry && !entry->worker.empty() && entry->worker != worker.id) {
    fence(entry->worker, entry->name, entry->generation);  // the older copy elsewhere
  }
  const bool known = entry != nullptr;
  auto& adopted = sessions_.adopt(update.session, report.options, worker.id, generation);
  if (!known) {
    events_.emit(event::SessionRegistered{adopted.name, adopted.options.pool, {}, true});
    // A broker that restarted gets the session's totals (and its budget's count) back from
    // the worker: turns from before this broker are nobody's growth here.
    adopted.usage = update.usage;
  }
  events_.emit(event::SessionPlaced{adopted.name, worker.id, generation});
  applyUpdate(adopted, update);
  askForMissingEntries(worker, update);
  held.insert(update.session);
  logger_->info("[session {}] adopted from [worker {}] generation {}", update.session, worker.id,
                generation);
  forwardWaiting(adopted);
  adoptIntoPool(adopted);  // pool members bring their pool back after a broker restart
}

void BrokerCore::heardFrom(const std::string& worker_id) {
  if (auto* worker = workers_.find(worker_id)) worker->last_heard = clock_.now();
}

void BrokerCore::heartbeatFrom(const std::string& worker_id, uint64_t seq) {
  auto* worker = workers_.find(worker_id);
  if (worker == nullptr) return;
  worker->last_seq = seq;
  // Ack at once: the worker's lease is renewed by acks, counted from when it sent the
  // heartbeat, so an early ack keeps the lease far from lapsing.
  sendHeartbeat(worker_id);
}

void BrokerCore::loadFrom(const std::string& worker_id, const msg::Load& load) {
  if (auto* worker = workers_.find(worker_id)) WorkerTable::applyLoad(*worker, load);
}

void BrokerCore::sessionUpdate(const std::string& worker_id, const msg::SessionUpdate& update) {
  auto* entry = sessions_.find(update.session);
  if (entry && entry->worker == worker_id && entry->generation == update.generation) {
    if (update.state == session_state::kStopped && !entry->terminating && !entry->moving) {
      // Nobody asked it to stop (the worker is shutting down, or fenced itself).
      return relocate(worker_id, update.session, "its copy stopped");
    }
    applyUpdate(*entry, update);
    transcripts_->noteKnown(update.session, update.session_id, update.mirrored);
    return;
  }
  refused(event::Refusal::kStale, worker_id);
  const bool going =
      update.state == session_state::kStopped || update.state == session_state::kStopping;
  if (!going) fence(worker_id, update.session, update.generation);
}

void BrokerCore::markDelivered(const std::string& worker_id, uint64_t request_id) {
  auto* request = requestFrom(worker_id, request_id, "delivered");
  if (request == nullptr || request->delivered) return;
  request->delivered = true;
  if (request->kind == RequestKind::kQuery) {
    events_.emit(event::QueryDelivered{request->id, request->session, worker_id});
  }
}

void BrokerCore::relayEvent(const std::string& worker_id, const Envelope& envelope,
                            const msg::Event& event) {
  if (auto* request = takeEvent(worker_id, event.id, event.kind, event.text)) {
    sender_.toClient(request->client, MessageType::kEvent,
                     rewriteId(envelope.body.get(), request->client_id));
  }
}

void BrokerCore::relayEvent(const std::string& worker_id, const BodyFields& event) {
  // BodyFields keys: seq, kind, text (handleInPlace checked their types).
  auto* request = takeEvent(worker_id, event.id().value_or(0), event.stringField(1).value_or(""),
                            event.stringField(2).value_or(""));
  if (request == nullptr) return;
  event.writeWithId(request->client_id, relayed_);
  sender_.eventToClient(request->client, relayed_);
}

BrokerRequest* BrokerCore::takeEvent(const std::string& worker_id, uint64_t id,
                                     std::string_view kind, std::string_view text) {
  auto* request = requestFrom(worker_id, id, "event");
  if (!request || request->kind != RequestKind::kQuery) return nullptr;
  if (kind == "delta") {
    if (request->first_delta_at == TimePoint{}) request->first_delta_at = clock_.now();
    RequestTable::appendPartial(*request, text);
  }
  if (request->client_gone || !request->query.stream) return nullptr;
  return request;
}

void BrokerCore::settleResult(const std::string& worker_id, const Envelope& envelope) {
  auto* request = requestFrom(worker_id, envelope.id, "result");
  if (!request) return;
  if (request->kind == RequestKind::kMove && !request->move_to.empty()) {
    return finishMove(*request);  // the old copy has stopped
  }
  if (request->kind == RequestKind::kContext) {
    return finishRequest(request->id, MessageType::kResult,
                         rewriteId(envelope.body.get(), request->client_id));
  }
  if (request->kind == RequestKind::kBudget) return budgetConfirmed(*request, worker_id);
  if (request->kind != RequestKind::kQuery) return settleAck(*request, worker_id, envelope);
  const auto& body = envelope.body.get();
  countServed(*request);
  finishRequest(request->id, MessageType::kResult,
                rewriteId(body, request->client_id, request->pool), "ok",
                {numberIn<double>(body, "cost_usd"), numberIn<uint64_t>(body, "input_tokens"),
                 numberIn<uint64_t>(body, "output_tokens")});
}

void BrokerCore::countServed(const BrokerRequest& request) {
  if (request.pool.empty()) return;
  if (auto* pool = pools_.find(request.pool)) {
    if (auto* member = PoolRegistry::member(*pool, request.session)) ++member->served;
  }
}

bool BrokerCore::settleResult(const std::string& worker_id, const BodyFields& result) {
  // BodyFields keys: cost_usd, input_tokens, output_tokens, pool (handleInPlace checked the
  // first three's types).
  auto* request = requests_.find(result.id().value_or(0));
  if (request == nullptr || request->worker != worker_id || request->kind != RequestKind::kQuery) {
    return false;
  }
  countServed(*request);
  // A pool query's result names the pool beside the member that answered (`session`).
  std::optional<BodyFields::StringOverride> pool;
  if (!request->pool.empty()) pool = BodyFields::StringOverride{3, request->pool};
  msgpack::sbuffer reply(std::max(kEncodeFirstBytes, result.size() + request->pool.size() + 32));
  result.writeWithId(request->client_id, reply, pool);
  finishRequest(request->id, MessageType::kResult, std::move(reply), "ok",
                {result.numberField(0).value_or(0), result.unsignedField(1).value_or(0),
                 result.unsignedField(2).value_or(0)});
  return true;
}

void BrokerCore::settleAck(BrokerRequest& request, const std::string& worker_id,
                           const Envelope& envelope) {
  auto decoded = decodeBody<msg::Ack>(envelope);
  msg::Ack ack = decoded ? *decoded : msg::Ack{};
  ack.id = request.client_id;
  if (ack.session.empty()) ack.session = request.session;
  if (ack.worker.empty()) ack.worker = worker_id;
  if (ack.generation == 0) ack.generation = request.generation;
  auto* entry = sessions_.find(request.session);
  const bool current =
      entry && entry->worker == worker_id && entry->generation == request.generation;
  if (request.kind == RequestKind::kTerminate) {
    ack.state = session_state::kStopped;
    if (current && entry->terminating) {
      removeSession(request.session, "terminated");
      logger_->info("[session {}] terminated on [worker {}]", ack.session, worker_id);
    }
  } else if (current && !ack.state.empty()) {
    setState(*entry, ack.state);
  }
  if (request.kind == RequestKind::kRestart && current) {
    events_.emit(event::SessionRestarted{request.session, worker_id, request.keep_history});
  }
  if (request.kind == RequestKind::kSet && current) applySettings(*entry, request.settings);
  finishRequest(request.id, MessageType::kResult, encodeBody(ack));
}

void BrokerCore::settleError(const std::string& worker_id, const Envelope& envelope,
                             const msg::ErrorReply& error) {
  auto* found = requestFrom(worker_id, error.id, "error");
  if (!found) return;
  BrokerRequest& request = *found;
  if (request.kind == RequestKind::kBudget) {
    // It holds no such copy (any more): that name's next placement carries the budget.
    logger_->debug("[worker {}] budget of {}: {} {}", worker_id, request.session, error.code,
                   error.message);
    return budgetConfirmed(request, worker_id);
  }
  const auto& body = envelope.body.get();
  const std::string& code = error.code;
  auto* entry = sessions_.find(request.session);
  const bool current =
      entry && entry->worker == worker_id && entry->generation == request.generation;
  if (request.kind == RequestKind::kQuery && current && entry->moving && !request.delivered) {
    // Queued on the copy a `move` stops: it never reached a CLI, so it follows the name.
    return enqueueWaiting(request);
  }
  if (request.kind == RequestKind::kMove) {
    if (!request.move_to.empty() && code == errorCodeName(ErrorCode::kNotFound)) {
      return finishMove(request);  // no copy there to stop: place it on the target
    }
    if (entry && entry->moving) {
      entry->moving = false;
      forwardWaiting(*entry);
    }
    const bool refused_by_target = current && request.move_to.empty();
    const std::string session = request.session;
    finishRequest(request.id, MessageType::kError, rewriteId(body, request.client_id), code);
    // The target did not take it: it goes wherever there is room.
    if (refused_by_target) relocate(worker_id, session, "it refused the move");
    return;
  }
  if (request.kind == RequestKind::kQuery && current && !request.delivered &&
      code == errorCodeName(ErrorCode::kNotFound)) {
    // The worker no longer holds the placement the broker gave it: move the session, and
    // this query (never delivered) with it.
    return relocate(worker_id, request.session, "it answered not_found");
  }
  if (request.kind == RequestKind::kQuery && !request.pool.empty() &&
      retryPoolQuery(request, code)) {
    return;  // a pool member refused it: another member gets it
  }
  if (request.kind == RequestKind::kStart && current) {
    // The worker could not host it (bad cwd, spawn failure...): the name is free again.
    logger_->info("[session {}] start failed on [worker {}]: {} {}", request.session, worker_id,
                  code, error.message);
    removeSession(request.session, "start failed: " + error.message);
  } else if (request.kind == RequestKind::kTerminate && current) {
    if (code == errorCodeName(ErrorCode::kNotFound)) {
      removeSession(request.session, "terminated");  // already gone there: done
      ackRequest(request.id, session_state::kStopped);
      return;
    }
    entry->terminating = false;
  }
  finishRequest(request.id, MessageType::kError, rewriteId(body, request.client_id), code);
}

void BrokerCore::finishMove(BrokerRequest& request) {
  const std::string target = request.move_to;
  request.move_to.clear();
  auto* entry = sessions_.find(request.session);
  if (entry == nullptr || !entry->moving || entry->worker != request.worker ||
      entry->generation != request.generation) {
    // Failover or another request moved it meanwhile: say where it is now.
    return ackRequest(request.id, entry ? std::string_view(entry->state)
                                        : std::string_view(session_state::kStopped));
  }
  const auto* worker = workers_.find(target);
  if (worker == nullptr || worker->lost()) {
    const std::string from = entry->worker;
    unplace(*entry);
    if (!place(entry->name, request.id, from)) ackRequest(request.id, session_state::kPending);
    return;
  }
  moveTo(entry->name, target, request.id);
}

void BrokerCore::appendTranscript(const std::string& worker_id, msg::TranscriptAppend batch) {
  transcripts_->countRejected(batch.dropped);  // what the worker could not use
  const auto* entry = sessions_.find(batch.session);
  auto* worker = workers_.find(worker_id);
  if (!entry || !worker || entry->worker != worker_id || entry->generation != batch.generation) {
    refused(event::Refusal::kStale, worker_id);  // an old placement's entries (fencing)
    return;
  }
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  msg::TranscriptAck ack{batch.session, batch.generation, batch.session_id, 0};
  const uint64_t entries = batch.entries.size();
  const uint64_t last = batch.first + entries - 1;
  ack.upto =
      transcripts_->append(batch.session, batch.session_id, batch.first, std::move(batch.entries),
                           static_cast<uint64_t>(now_ms), batch.snapshot);
  if (batch.first > 0 && ack.upto >= last) {
    holdAck(*worker, ack, entries);  // stored whole: it goes with the next heartbeat
  } else {
    sendAck(*worker, ack);  // behind the batch: it tells the worker what is lacking
  }
}

void BrokerCore::refuseTranscript(const std::string& worker_id, const msg::TranscriptAppend& batch,
                                  std::string_view why) {
  transcripts_->countRejected(batch.dropped + batch.entries.size());
  logger_->debug("[worker {}] transcript batch for [session {}] refused: {}", worker_id,
                 batch.session, why);
}

void BrokerCore::askForMissingEntries(WorkerEntry& worker, const msg::SessionUpdate& update) {
  transcripts_->noteKnown(update.session, update.session_id, update.mirrored);
  const Transcript* transcript = transcripts_->peek(update.session);
  if (transcript == nullptr || transcript->complete() || transcript->session_id.empty()) return;
  // The worker sends again what it kept unacknowledged; an ack below that asks it for its
  // CLI's transcript from disk instead.
  sendAck(worker, msg::TranscriptAck{update.session, update.generation, transcript->session_id,
                                     transcript->ackable()});
}

void BrokerCore::fetchTranscript(const std::string& worker_id, const msg::TranscriptFetch& fetch) {
  const auto* entry = sessions_.find(fetch.session);
  if (!entry || entry->worker != worker_id || entry->generation != fetch.generation) {
    refused(event::Refusal::kStale, worker_id);
    return;
  }
  transcripts_->noteKnown(fetch.session, fetch.session_id, fetch.mirrored);
  msg::TranscriptSeed seed{fetch.session, fetch.generation, fetch.session_id, {}, 0, {}};
  const Transcript* transcript = transcripts_->get(fetch.session);
  if (transcript != nullptr && transcript->session_id == fetch.session_id) {
    seed.transcript = TranscriptStore::jsonl(*transcript);
    seed.entries = transcript->entries.size();
    seed.cut = transcript->cutReason();
    if (seed.entries > 0) transcripts_->continueFrom(fetch.session);
  } else {
    seed.cut = "conversation " + fetch.session_id + " was cut: the broker holds none of it";
  }
  logger_->info(
      "[session {}] its worker cannot resume it from its disk: sent the broker's "
      "copy ({} entries{}{})",
      fetch.session, seed.entries, seed.cut.empty() ? "" : "; ", seed.cut);
  toWorkerBody(worker_id, MessageType::kTranscriptSeed, seed);
}

BrokerRequest* BrokerCore::requestFrom(const std::string& worker_id, uint64_t id,
                                       std::string_view type) {
  auto* request = requests_.find(id);
  if (request && (request->worker == worker_id || request->confirming.count(worker_id) > 0)) {
    return request;
  }
  // Usually a reply that lost a race (cancelled, timed out, moved); not an error.
  refused(event::Refusal::kStale, worker_id);
  logger_->debug("[worker {}] stale {} for request {} dropped", worker_id, type, id);
  return nullptr;
}

void BrokerCore::fence(const std::string& worker_id, const std::string& session,
                       uint64_t generation) {
  logger_->warn("[worker {}] holds a stale copy of [session {}] generation {}: told to stop",
                worker_id, session, generation);
  events_.emit(event::WorkerFenced{worker_id, session, generation});
  toWorkerBody(worker_id, MessageType::kTerminate, msg::Terminate{0, session, generation});
}

void BrokerCore::sendHeartbeat(const std::string& worker_id) {
  auto* worker = workers_.find(worker_id);
  if (worker == nullptr || worker->lost()) return;
  worker->last_heartbeat_sent = clock_.now();
  toWorkerBody(worker_id, MessageType::kHeartbeat,
               msg::Heartbeat{++worker->sent_seq, worker->last_seq, term_});
  auto held = std::move(worker->held_acks);
  worker->held_acks.clear();
  for (const auto& [session, ack] : held)
    toWorkerBody(worker_id, MessageType::kTranscriptAck, ack.first);
}

void BrokerCore::holdAck(WorkerEntry& worker, const msg::TranscriptAck& ack, uint64_t entries) {
  auto& [held, count] = worker.held_acks[ack.session];
  held = ack;
  count += entries;
  if (count >= kAckEveryEntries) sendAck(worker, ack);
}

void BrokerCore::sendAck(WorkerEntry& worker, const msg::TranscriptAck& ack) {
  worker.held_acks.erase(ack.session);
  toWorkerBody(worker.id, MessageType::kTranscriptAck, ack);
}

}  // namespace ccmesh::broker
