#include "worker_message_handler.hpp"

#include <algorithm>
#include <chrono>

#include "ccmesh/common/limits.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "peer_name.hpp"
#include "reply_rewrite.hpp"

namespace ccmesh::broker {
namespace {

// A conversation id fit for a file name and a file header: 1..128 of [A-Za-z0-9._-].
bool plainSessionId(const std::string& id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// One JSONL line holding a JSON object, within the entry bound (the broker does not parse
// entries; the worker checked them, this guards the files and the bound).
bool plausibleEntry(const std::string& entry) {
  return entry.size() >= 2 && entry.size() <= msg::TranscriptAppend::kMaxEntryBytes &&
         entry.front() == '{' && entry.back() == '}' &&
         entry.find_first_of("\r\n") == std::string::npos;
}

}  // namespace

WorkerMessageHandler::WorkerMessageHandler(SessionRouter& router, RateLimitedLog& warnings)
    : router_(router), warnings_(warnings) {}

void WorkerMessageHandler::handle(const std::string& routing_id, const Envelope& envelope,
                                  const std::string& key_name) {
  if (envelope.type == MessageType::kReady) return onReady(routing_id, envelope, key_name);
  auto* worker = router_.workers().findByRoutingId(routing_id);
  // A connection that took over a registered worker's routing id (ROUTER handover) with
  // another key must not act for that worker.
  if (worker && !key_name.empty() && worker->id != key_name) {
    const bool answer = envelope.type != MessageType::kError && envelope.type != MessageType::kBye;
    return refuseWorkerId(routing_id, worker->id, key_name, answer);
  }
  if (!worker) {
    // A worker the broker declared dead, or one that outlived a broker restart: it must
    // send `ready` again, with the sessions it still holds. (Never answer an error or a
    // bye: that could ping-pong.)
    ++router_.stats().stale_messages;
    warnings_.warn("[peer {}] '{}' from an unregistered worker ignored; asked it to rejoin",
                   peerName(routing_id), messageTypeName(envelope.type));
    if (envelope.type != MessageType::kError && envelope.type != MessageType::kBye) {
      router_.outbox().toWorker(routing_id, MessageType::kRejoin,
                                encodeBody(msg::Rejoin{"this broker does not know you"}));
    }
    return;
  }
  worker->last_heard = router_.clock().now();
  switch (envelope.type) {
    case MessageType::kLoad: {
      auto load = decodeBody<msg::Load>(envelope);
      if (!load) return rejectMalformed(routing_id, 0, load.error().error);
      return WorkerTable::applyLoad(*worker, *load);
    }
    case MessageType::kHeartbeat: {
      auto heartbeat = decodeBody<msg::Heartbeat>(envelope);
      if (!heartbeat) return rejectMalformed(routing_id, 0, heartbeat.error().error);
      worker->last_seq = heartbeat->seq;
      // Ack at once: the worker's lease is renewed by acks, counted from when it sent the
      // heartbeat, so an early ack keeps the lease far from lapsing.
      router_.sendHeartbeat(worker->id);
      return;
    }
    case MessageType::kSessionUpdate: {
      auto update = decodeBody<msg::SessionUpdate>(envelope);
      if (!update) return rejectMalformed(routing_id, 0, update.error().error);
      return onSessionUpdate(*worker, *update);
    }
    case MessageType::kDelivered: {
      auto delivered = decodeBody<msg::Delivered>(envelope);
      if (!delivered) return rejectMalformed(routing_id, envelope.id, delivered.error().error);
      return onDelivered(*worker, *delivered);
    }
    case MessageType::kTranscriptAppend: {
      auto batch = decodeBody<msg::TranscriptAppend>(envelope);
      if (!batch) return rejectMalformed(routing_id, 0, batch.error().error);
      return onTranscriptAppend(*worker, std::move(*batch));
    }
    case MessageType::kTranscriptFetch: {
      auto fetch = decodeBody<msg::TranscriptFetch>(envelope);
      if (!fetch) return rejectMalformed(routing_id, 0, fetch.error().error);
      return onTranscriptFetch(*worker, *fetch);
    }
    case MessageType::kEvent:
      return onEvent(*worker, envelope);
    case MessageType::kResult:
      return onResult(*worker, envelope);
    case MessageType::kError:
      return onError(*worker, envelope);
    case MessageType::kBye:
      router_.log().info("[worker {}] said bye", worker->id);
      router_.dropWorker(worker->id, "said bye");
      return;
    default:
      return rejectMalformed(
          routing_id, envelope.id,
          {ErrorCode::kBadRequest, "'" + std::string(messageTypeName(envelope.type)) +
                                       "' is not a message a worker may send"});
  }
}

void WorkerMessageHandler::onReady(const std::string& routing_id, const Envelope& envelope,
                                   const std::string& key_name) {
  auto ready = decodeBody<msg::Ready>(envelope);
  if (!ready) return rejectMalformed(routing_id, 0, ready.error().error);
  const std::string id = ready->worker.empty() ? peerName(routing_id) : ready->worker;
  if (id.size() > limits::kMaxSessionNameBytes) {
    return rejectMalformed(routing_id, 0, {ErrorCode::kBadRequest, "worker id too long"});
  }
  // With CURVE a worker is who its key says: otherwise one worker key could register under
  // another worker's id and take its sessions over.
  if (!key_name.empty() && id != key_name) return refuseWorkerId(routing_id, id, key_name, true);
  auto& workers = router_.workers();
  if (auto* previous = workers.findByRoutingId(routing_id); previous && previous->id != id) {
    router_.dropWorker(previous->id, "its connection now belongs to worker " + id);
  }
  // A known, live worker id registering as a new process (not rejoining): the old process
  // may be frozen rather than dead, its CLIs running under its lease, which runs out at most
  // one worker expiry after the last message heard from it.
  TimePoint old_lease_end{};
  if (const auto* known = workers.find(id); known && !known->lost && !ready->rejoining) {
    old_lease_end = known->last_heard + workerExpiry(router_.config());
  }
  auto [worker, is_new] = workers.upsert(id, routing_id);
  worker->capacity = ready->capacity;
  worker->labels = ready->labels;
  WorkerTable::applyLoad(*worker, msg::Load{ready->max_live, ready->live, ready->hibernated});
  worker->last_heard = router_.clock().now();
  worker->last_seq = ready->seq;
  router_.recovery().noteWorker(ready->rejoining, !ready->sessions.empty(), worker->last_heard);
  router_.log().info("[worker {}] {}: capacity {}, reports {} session(s)", id,
                     is_new ? "joined" : "registered again", ready->capacity,
                     ready->sessions.size());
  const auto& config = router_.config();
  router_.toWorkerBody(
      id, MessageType::kWelcome,
      msg::Welcome{static_cast<uint64_t>(config.heartbeat.count()), config.liveness, ready->seq});
  std::set<std::string> held;
  for (const auto& report : ready->sessions) adoptReport(*worker, report, held);
  // Whatever the registry placed here that the worker no longer holds moves on, and its
  // requests with it.
  router_.recoverFrom(id, &held, old_lease_end);
  router_.placePending();
}

void WorkerMessageHandler::adoptReport(WorkerEntry& worker, const msg::SessionReport& report,
                                       std::set<std::string>& held) {
  const auto& update = report.update;
  if (validateSessionName(update.session)) {
    ++router_.stats().malformed_messages;
    warnings_.warn("[worker {}] reported an invalid session name; ignored", worker.id);
    return;
  }
  auto& sessions = router_.sessions();
  auto* entry = sessions.find(update.session);
  const uint64_t generation = update.generation;
  if (entry && entry->worker == worker.id && entry->generation == generation) {
    SessionRegistry::applyUpdate(*entry, update, router_.clock().now());
    askForMissingEntries(worker, update);
    held.insert(update.session);
    return;
  }
  const bool newer = !entry || generation > entry->generation ||
                     (generation == entry->generation && entry->worker.empty());
  if (!newer || (entry && entry->terminating)) {
    ++router_.stats().stale_messages;
    fence(worker.id, update.session, generation);
    return;
  }
  if (entry && !entry->worker.empty() && entry->worker != worker.id) {
    fence(entry->worker, entry->name, entry->generation);  // the older copy elsewhere
  }
  auto& adopted = sessions.adopt(update.session, report.options, worker.id, generation);
  SessionRegistry::applyUpdate(adopted, update, router_.clock().now());
  askForMissingEntries(worker, update);
  held.insert(update.session);
  router_.log().info("[session {}] adopted from [worker {}] generation {}", update.session,
                     worker.id, generation);
  router_.forwardWaiting(adopted);
  router_.noteAdopted(adopted);  // pool members bring their pool back after a broker restart
}

void WorkerMessageHandler::onSessionUpdate(WorkerEntry& worker, const msg::SessionUpdate& update) {
  auto* entry = router_.sessions().find(update.session);
  if (entry && entry->worker == worker.id && entry->generation == update.generation) {
    if (update.state == session_state::kStopped && !entry->terminating && !entry->moving) {
      // Nobody asked it to stop (the worker is shutting down, or fenced itself).
      return router_.relocate(worker.id, update.session, "its copy stopped");
    }
    SessionRegistry::applyUpdate(*entry, update, router_.clock().now());
    router_.transcripts().noteKnown(update.session, update.session_id, update.mirrored);
    return;
  }
  ++router_.stats().stale_messages;
  const bool going =
      update.state == session_state::kStopped || update.state == session_state::kStopping;
  if (!going) fence(worker.id, update.session, update.generation);
}

void WorkerMessageHandler::onDelivered(WorkerEntry& worker, const msg::Delivered& delivered) {
  if (auto* request = requestFrom(worker, delivered.id, "delivered")) request->delivered = true;
}

void WorkerMessageHandler::onEvent(WorkerEntry& worker, const Envelope& envelope) {
  auto event = decodeBody<msg::Event>(envelope);
  if (!event) return rejectMalformed(worker.routing_id, envelope.id, event.error().error);
  auto* request = requestFrom(worker, event->id, "event");
  if (!request || request->kind != RequestKind::kQuery) return;
  if (event->kind == "delta") RequestTable::appendPartial(*request, event->text);
  if (request->client_gone || !request->query.stream) return;
  router_.outbox().toClient(request->client, MessageType::kEvent,
                            rewriteId(envelope.body.get(), request->client_id));
}

void WorkerMessageHandler::onResult(WorkerEntry& worker, const Envelope& envelope) {
  auto* request = requestFrom(worker, envelope.id, "result");
  if (!request) return;
  if (request->kind == RequestKind::kMove && !request->move_to.empty()) {
    return continueMove(*request);  // the old copy has stopped
  }
  if (request->kind == RequestKind::kQuery) {
    router_.finishRequest(request->id, MessageType::kResult,
                          rewriteId(envelope.body.get(), request->client_id));
    return;
  }
  auto decoded = decodeBody<msg::Ack>(envelope);
  msg::Ack ack = decoded ? *decoded : msg::Ack{};
  ack.id = request->client_id;
  if (ack.session.empty()) ack.session = request->session;
  if (ack.worker.empty()) ack.worker = worker.id;
  if (ack.generation == 0) ack.generation = request->generation;
  auto* entry = router_.sessions().find(request->session);
  const bool current =
      entry && entry->worker == worker.id && entry->generation == request->generation;
  if (request->kind == RequestKind::kTerminate) {
    ack.state = session_state::kStopped;
    if (current && entry->terminating) {
      router_.sessions().remove(request->session);
      router_.log().info("[session {}] terminated on [worker {}]", ack.session, worker.id);
    }
  } else if (current && !ack.state.empty()) {
    entry->state = ack.state;
  }
  router_.finishRequest(request->id, MessageType::kResult, encodeBody(ack));
}

void WorkerMessageHandler::onError(WorkerEntry& worker, const Envelope& envelope) {
  auto error = decodeBody<msg::ErrorReply>(envelope);
  if (!error) return rejectMalformed(worker.routing_id, envelope.id, error.error().error);
  if (error->id == 0) {
    warnings_.warn("[worker {}] reported error {}: {}", worker.id, error->code, error->message);
    return;
  }
  auto* request = requestFrom(worker, error->id, "error");
  if (!request) return;
  auto* entry = router_.sessions().find(request->session);
  const bool current =
      entry && entry->worker == worker.id && entry->generation == request->generation;
  if (request->kind == RequestKind::kQuery && current && entry->moving && !request->delivered) {
    // Queued on the copy a `move` stops: it never reached a CLI, so it follows the name.
    return router_.enqueueWaiting(*entry, *request);
  }
  if (request->kind == RequestKind::kMove) {
    if (!request->move_to.empty() && error->code == errorCodeName(ErrorCode::kNotFound)) {
      return continueMove(*request);  // no copy there to stop: place it on the target
    }
    if (entry && entry->moving) {
      entry->moving = false;
      router_.forwardWaiting(*entry);
    }
    const bool refused_by_target = current && request->move_to.empty();
    const std::string session = request->session;
    router_.finishRequest(request->id, MessageType::kError,
                          rewriteId(envelope.body.get(), request->client_id));
    // The target did not take it: it goes wherever there is room.
    if (refused_by_target) router_.relocate(worker.id, session, "it refused the move");
    return;
  }
  if (request->kind == RequestKind::kQuery && current && !request->delivered &&
      error->code == errorCodeName(ErrorCode::kNotFound)) {
    // The worker no longer holds the placement the broker gave it: move the session, and
    // this query (never delivered) with it.
    return router_.relocate(worker.id, request->session, "it answered not_found");
  }
  if (request->kind == RequestKind::kStart && current) {
    // The worker could not host it (bad cwd, spawn failure...): the name is free again.
    router_.log().info("[session {}] start failed on [worker {}]: {} {}", request->session,
                       worker.id, error->code, error->message);
    router_.sessions().remove(request->session);
  } else if (request->kind == RequestKind::kTerminate && current) {
    if (error->code == errorCodeName(ErrorCode::kNotFound)) {
      router_.sessions().remove(request->session);  // already gone there: done
      router_.ackRequest(request->id, session_state::kStopped);
      return;
    }
    entry->terminating = false;
  }
  router_.finishRequest(request->id, MessageType::kError,
                        rewriteId(envelope.body.get(), request->client_id));
}

void WorkerMessageHandler::continueMove(BrokerRequest& request) {
  const std::string target = request.move_to;
  request.move_to.clear();
  auto* entry = router_.sessions().find(request.session);
  if (entry == nullptr || !entry->moving || entry->worker != request.worker ||
      entry->generation != request.generation) {
    // Failover or another request moved it meanwhile: say where it is now.
    return router_.ackRequest(request.id, entry ? std::string_view(entry->state)
                                                : std::string_view(session_state::kStopped));
  }
  const auto* worker = router_.workers().find(target);
  if (worker == nullptr || worker->lost) {
    const std::string from = entry->worker;
    router_.sessions().unplace(entry->name);
    if (!router_.place(entry->name, request.id, from)) {
      router_.ackRequest(request.id, session_state::kPending);
    }
    return;
  }
  router_.moveTo(entry->name, target, request.id);
}

void WorkerMessageHandler::onTranscriptAppend(WorkerEntry& worker, msg::TranscriptAppend batch) {
  auto& transcripts = router_.transcripts();
  transcripts.countRejected(batch.dropped);  // what the worker could not use
  const auto* entry = router_.sessions().find(batch.session);
  if (!entry || entry->worker != worker.id || entry->generation != batch.generation) {
    ++router_.stats().stale_messages;  // an old placement's entries (fencing)
    return;
  }
  // A batch is stored whole or not at all: dropping some entries would shift every later
  // position. A refused batch is not acknowledged (the copy stays incomplete, and says so).
  const char* refused = nullptr;
  if (!plainSessionId(batch.session_id)) {
    refused = "an unusable session_id";
  } else if (std::any_of(batch.entries.begin(), batch.entries.end(),
                         [](const std::string& entry) { return !plausibleEntry(entry); })) {
    refused = "malformed entries";
  }
  if (refused != nullptr) {
    transcripts.countRejected(batch.entries.size());
    warnings_.warn("[worker {}] a transcript batch for [session {}] with {} refused", worker.id,
                   batch.session, refused);
    return;
  }
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  msg::TranscriptAck ack{batch.session, batch.generation, batch.session_id, 0};
  const uint64_t entries = batch.entries.size();
  const uint64_t last = batch.first + entries - 1;
  ack.upto =
      transcripts.append(batch.session, batch.session_id, batch.first, std::move(batch.entries),
                         static_cast<uint64_t>(now_ms), batch.snapshot);
  if (batch.first > 0 && ack.upto >= last) {
    router_.holdAck(worker, ack, entries);  // stored whole: it goes with the next heartbeat
  } else {
    router_.sendAck(worker, ack);  // behind the batch: it tells the worker what is lacking
  }
}

void WorkerMessageHandler::askForMissingEntries(WorkerEntry& worker,
                                                const msg::SessionUpdate& update) {
  auto& transcripts = router_.transcripts();
  transcripts.noteKnown(update.session, update.session_id, update.mirrored);
  const Transcript* transcript = transcripts.peek(update.session);
  if (transcript == nullptr || transcript->complete() || transcript->session_id.empty()) return;
  // The worker sends again what it kept unacknowledged; an ack below that asks it for its
  // CLI's transcript from disk instead.
  router_.sendAck(worker, msg::TranscriptAck{update.session, update.generation,
                                             transcript->session_id, transcript->ackable()});
}

void WorkerMessageHandler::onTranscriptFetch(WorkerEntry& worker,
                                             const msg::TranscriptFetch& fetch) {
  const auto* entry = router_.sessions().find(fetch.session);
  if (!entry || entry->worker != worker.id || entry->generation != fetch.generation) {
    ++router_.stats().stale_messages;
    return;
  }
  auto& transcripts = router_.transcripts();
  transcripts.noteKnown(fetch.session, fetch.session_id, fetch.mirrored);
  msg::TranscriptSeed seed{fetch.session, fetch.generation, fetch.session_id, {}, 0, {}};
  const Transcript* transcript = transcripts.get(fetch.session);
  if (transcript != nullptr && transcript->session_id == fetch.session_id) {
    seed.transcript = TranscriptStore::jsonl(*transcript);
    seed.entries = transcript->entries.size();
    seed.cut = transcript->cutReason();
    if (seed.entries > 0) transcripts.continueFrom(fetch.session);
  } else {
    seed.cut = "conversation " + fetch.session_id + " was cut: the broker holds none of it";
  }
  router_.log().info(
      "[session {}] its worker cannot resume it from its disk: sent the broker's "
      "copy ({} entries{}{})",
      fetch.session, seed.entries, seed.cut.empty() ? "" : "; ", seed.cut);
  router_.toWorkerBody(worker.id, MessageType::kTranscriptSeed, seed);
}

BrokerRequest* WorkerMessageHandler::requestFrom(const WorkerEntry& worker, uint64_t id,
                                                 std::string_view type) {
  auto* request = router_.requests().find(id);
  if (request && request->worker == worker.id) return request;
  // Usually a reply that lost a race (cancelled, timed out, moved); not an error.
  ++router_.stats().stale_messages;
  router_.log().debug("[worker {}] stale {} for request {} dropped", worker.id, type, id);
  return nullptr;
}

void WorkerMessageHandler::fence(const std::string& worker_id, const std::string& session,
                                 uint64_t generation) {
  warnings_.warn("[worker {}] holds a stale copy of [session {}] generation {}: told to stop",
                 worker_id, session, generation);
  router_.toWorkerBody(worker_id, MessageType::kTerminate, msg::Terminate{0, session, generation});
}

void WorkerMessageHandler::refuseWorkerId(const std::string& routing_id, const std::string& id,
                                          const std::string& key_name, bool answer) {
  ++router_.stats().refused_worker_ids;
  warnings_.warn("[peer {}] refused: key '{}' may only act as worker '{}', not as '{}'",
                 peerName(routing_id), key_name, key_name, id);
  // Not a `rejoin` (that would only make it try again), and nothing about the real worker
  // `id` changes.
  if (!answer) return;
  router_.outbox().toWorker(
      routing_id, MessageType::kError,
      encodeBody(msg::ErrorReply{0,
                                 std::string(errorCodeName(ErrorCode::kUnauthorized)),
                                 "this key is allowed as worker '" + key_name +
                                     "' only; start the worker with --id " + key_name,
                                 {},
                                 {}}));
}

void WorkerMessageHandler::rejectMalformed(const std::string& routing_id, uint64_t id,
                                           const Error& error) {
  ++router_.stats().malformed_messages;
  warnings_.warn("[worker {}] malformed message: {}", peerName(routing_id), error.message);
  // Workers get the same answer as clients; the send's status does not matter here.
  router_.outbox().toWorker(
      routing_id, MessageType::kError,
      encodeBody(
          msg::ErrorReply{id, std::string(errorCodeName(error.code)), error.message, {}, {}}));
}

}  // namespace ccmesh::broker
