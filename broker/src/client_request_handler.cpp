#include "client_request_handler.hpp"

#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "ccmesh/common/version.hpp"
#include "peer_name.hpp"

namespace ccmesh::broker {

ClientRequestHandler::ClientRequestHandler(SessionRouter& router, PoolRequestHandler& pools,
                                           RateLimitedLog& warnings, TimePoint started)
    : router_(router), pools_(pools), warnings_(warnings), started_(started) {}

template <class T, class F>
void ClientRequestHandler::with(const std::string& client, const Envelope& envelope, F&& then) {
  auto body = decodeBody<T>(envelope);
  if (!body) {
    rejectMalformed(client, body.error().id, body.error().error, "undecodable body");
    return;
  }
  if (envelope.type != MessageType::kCancel && body->id == 0) {
    rejectMalformed(client, 0, {ErrorCode::kBadRequest, "request id must be non-zero"},
                    "request id 0");
    return;
  }
  then(std::move(*body));
}

void ClientRequestHandler::handle(const std::string& client, const Envelope& envelope,
                                  const std::string& caller) {
  switch (envelope.type) {
    case MessageType::kQuery:
      return with<msg::Query>(client, envelope,
                              [&](msg::Query q) { onQuery(client, std::move(q)); });
    case MessageType::kCancel:
      return with<msg::Cancel>(client, envelope, [&](msg::Cancel c) { onCancel(client, c); });
    case MessageType::kStart:
      return with<msg::Start>(client, envelope, [&](msg::Start s) { onStart(client, s); });
    case MessageType::kTerminate:
      return with<msg::Terminate>(client, envelope,
                                  [&](msg::Terminate t) { onTerminate(client, t); });
    case MessageType::kRestart:
      return with<msg::Restart>(client, envelope, [&](msg::Restart r) { onRestart(client, r); });
    case MessageType::kInfo:
      return with<msg::Info>(client, envelope, [&](msg::Info i) { onInfo(client, i); });
    case MessageType::kMove:
      return with<msg::Move>(client, envelope, [&](msg::Move m) { onMove(client, m); });
    case MessageType::kTranscript:
      return with<msg::TranscriptRequest>(
          client, envelope, [&](msg::TranscriptRequest t) { onTranscript(client, t); });
    case MessageType::kList:
      return with<msg::Plain>(client, envelope, [&](msg::Plain p) { onList(client, p.id); });
    case MessageType::kCount:
      return with<msg::Plain>(client, envelope, [&](msg::Plain p) { onCount(client, p.id); });
    case MessageType::kStatus:
      return with<msg::Plain>(client, envelope, [&](msg::Plain p) { onStatus(client, p.id); });
    case MessageType::kPing:
      return with<msg::Ping>(client, envelope, [&](msg::Ping p) { onPing(client, p); });
    default:
      if (PoolRequestHandler::handles(envelope.type)) {
        return pools_.handle(client, envelope, caller);
      }
      rejectMalformed(client, envelope.id,
                      {ErrorCode::kBadRequest, "'" + std::string(messageTypeName(envelope.type)) +
                                                   "' is not a request a client may send"},
                      "not a client request");
  }
}

void ClientRequestHandler::onQuery(const std::string& client, msg::Query query) {
  if (!checkName(client, query.id, query.session)) return;
  const auto& config = router_.config();
  if (query.prompt.size() > config.max_prompt_bytes) {
    router_.replyError(client, query.id, ErrorCode::kBadRequest,
                       "prompt is " + std::to_string(query.prompt.size()) +
                           " bytes; the limit is " + std::to_string(config.max_prompt_bytes) +
                           " (--max-prompt-bytes)",
                       query.session);
    return;
  }
  auto* entry = router_.sessions().find(query.session);
  if (!entry || entry->terminating) return notFound(client, query.id, query.session);
  auto& requests = router_.requests();
  const bool placed = !entry->worker.empty();
  if (!placed && entry->waiting.size() >= config.pending_limit) {
    router_.replyError(client, query.id, ErrorCode::kBusy,
                       "session " + query.session + " has " +
                           std::to_string(entry->waiting.size()) + " queries waiting for a worker",
                       query.session);
    return;
  }
  const auto now = router_.clock().now();
  auto* request = requests.add(client, query.id, RequestKind::kQuery, query.session, now, now);
  request->query = std::move(query);
  router_.enqueueWaiting(*entry, *request);
  if (placed) router_.forwardWaiting(*entry);
}

void ClientRequestHandler::onCancel(const std::string& client, const msg::Cancel& cancel) {
  auto* request = router_.requests().findByClient(client, cancel.id);
  // A checkout waiting for a member is no request in flight: ended here, or never granted.
  if (!request && pools_.cancelCheckout(client, cancel.id)) return;
  // Unknown ids are ignored: the request may have ended already (cancel is a notification).
  if (!request || request->client_gone || request->kind != RequestKind::kQuery) return;
  if (request->worker.empty()) {
    router_.failRequest(request->id, ErrorCode::kCancelled, "cancelled by the client");
  } else {
    router_.toWorkerBody(request->worker, MessageType::kCancel, msg::Cancel{request->id});
  }
}

void ClientRequestHandler::onStart(const std::string& client, const msg::Start& start) {
  if (!checkName(client, start.id, start.session)) return;
  if (auto bad = start.options.validate()) {
    router_.replyError(client, start.id, bad->code, bad->message, start.session);
    return;
  }
  if (!router_.sessions().find(start.session) &&
      router_.recovery().recovering(router_.clock().now())) {
    // A worker that has not reconnected yet may run this name.
    router_.replyError(client, start.id, ErrorCode::kUnavailable, recoveringMessage(start.session),
                       start.session);
    return;
  }
  auto& requests = router_.requests();
  if (!router_.sessions().add(start.session, start.options)) {
    router_.replyError(client, start.id, ErrorCode::kAlreadyExists,
                       "session " + start.session + " already exists", start.session);
    return;
  }
  // A new session is a new conversation, whatever an older one of that name left behind.
  router_.transcripts().remove(start.session);
  const auto now = router_.clock().now();
  auto* request = requests.add(client, start.id, RequestKind::kStart, start.session, now,
                               now + router_.config().control_timeout);
  const uint64_t request_id = request->id;
  if (router_.place(start.session, request_id)) {
    const auto* entry = router_.sessions().find(start.session);
    router_.log().info("[session {}] started on [worker {}] generation {}", start.session,
                       entry->worker, entry->generation);
  } else {
    router_.log().info("[session {}] registered; pending until a worker has room", start.session);
    router_.ackRequest(request_id, session_state::kPending);
  }
}

void ClientRequestHandler::onTerminate(const std::string& client, const msg::Terminate& terminate) {
  if (!checkName(client, terminate.id, terminate.session)) return;
  auto* entry = router_.sessions().find(terminate.session);
  if (!entry || entry->terminating) return notFound(client, terminate.id, terminate.session);
  auto& requests = router_.requests();
  if (entry->worker.empty()) {
    // Never placed: nothing runs anywhere, the name just goes away.
    const uint64_t generation = entry->generation;
    for (uint64_t id : std::vector<uint64_t>(entry->waiting.begin(), entry->waiting.end())) {
      router_.failRequest(id, ErrorCode::kCancelled,
                          "session " + terminate.session + " was terminated");
    }
    router_.sessions().remove(terminate.session);
    router_.log().info("[session {}] terminated while pending", terminate.session);
    router_.outbox().toClientBody(client, MessageType::kResult,
                                  msg::Ack{terminate.id, terminate.session, "", generation,
                                           std::string(session_state::kStopped)});
    return;
  }
  const auto now = router_.clock().now();
  auto* request = requests.add(client, terminate.id, RequestKind::kTerminate, terminate.session,
                               now, now + router_.config().control_timeout);
  request->worker = entry->worker;
  request->generation = entry->generation;
  entry->terminating = true;
  router_.log().info("[session {}] terminating on [worker {}]", entry->name, entry->worker);
  router_.toWorkerBody(entry->worker, MessageType::kTerminate,
                       msg::Terminate{request->id, entry->name, entry->generation});
}

void ClientRequestHandler::onRestart(const std::string& client, const msg::Restart& restart) {
  if (!checkName(client, restart.id, restart.session)) return;
  auto* entry = router_.sessions().find(restart.session);
  if (!entry || entry->terminating) return notFound(client, restart.id, restart.session);
  // A cut conversation (docs/SESSIONS.md): --from-cut takes what is left as its history from
  // now on; a restart without history starts afresh, which drops the cut with the old one.
  if (restart.from_cut) {
    router_.transcripts().acceptCut(restart.session);
  } else if (!restart.keep_history) {
    entry->cut.clear();
  }
  if (entry->worker.empty()) {
    if (restart.from_cut) entry->cut.clear();
    router_.outbox().toClientBody(client, MessageType::kResult,
                                  msg::Ack{restart.id, restart.session, "", entry->generation,
                                           std::string(session_state::kPending)});
    return;
  }
  auto& requests = router_.requests();
  const auto now = router_.clock().now();
  auto* request = requests.add(client, restart.id, RequestKind::kRestart, restart.session, now,
                               now + router_.config().control_timeout);
  request->worker = entry->worker;
  request->generation = entry->generation;
  request->keep_history = restart.keep_history || restart.from_cut;
  router_.toWorkerBody(entry->worker, MessageType::kRestart,
                       msg::Restart{request->id, entry->name, request->keep_history,
                                    entry->generation, restart.from_cut});
}

void ClientRequestHandler::onInfo(const std::string& client, const msg::Info& info) {
  if (!checkName(client, info.id, info.session)) return;
  const auto* entry = router_.sessions().find(info.session);
  if (!entry) return notFound(client, info.id, info.session);
  router_.outbox().toClientBody(client, MessageType::kResult,
                                msg::InfoResult{info.id, router_.describe(*entry)});
}

void ClientRequestHandler::onMove(const std::string& client, const msg::Move& move) {
  if (!checkName(client, move.id, move.session)) return;
  auto* entry = router_.sessions().find(move.session);
  if (!entry || entry->terminating) return notFound(client, move.id, move.session);
  const auto* target = router_.workers().find(move.worker);
  if (target == nullptr || target->lost) {
    router_.replyError(client, move.id, ErrorCode::kNotFound, "no live worker " + move.worker,
                       move.session);
    return;
  }
  if (entry->moving) {
    router_.replyError(client, move.id, ErrorCode::kBusy,
                       "session " + move.session + " is already moving", move.session);
    return;
  }
  if (entry->worker == move.worker) {
    router_.outbox().toClientBody(
        client, MessageType::kResult,
        msg::Ack{move.id, move.session, entry->worker, entry->generation, entry->state});
    return;
  }
  for (const auto& [label, value] : entry->options.require) {
    auto it = target->labels.find(label);
    if (it == target->labels.end() || it->second != value) {
      router_.replyError(client, move.id, ErrorCode::kBadRequest,
                         "worker " + move.worker + " lacks the label " + label + "=" + value +
                             " session " + move.session + " requires",
                         move.session);
      return;
    }
  }
  if (router_.sessions().countOn(move.worker) >= target->capacity) {
    router_.replyError(client, move.id, ErrorCode::kBusy,
                       "worker " + move.worker + " is at capacity (" +
                           std::to_string(target->capacity) + " sessions)",
                       move.session);
    return;
  }
  auto& requests = router_.requests();
  const auto now = router_.clock().now();
  auto* request = requests.add(client, move.id, RequestKind::kMove, move.session, now,
                               now + router_.config().control_timeout);
  if (entry->worker.empty()) {
    router_.moveTo(move.session, move.worker, request->id);  // pending: nothing to stop
    return;
  }
  // Stop the old copy gently first, so its CLI writes (and mirrors) the whole transcript;
  // queries wait in the broker meanwhile. WorkerMessageHandler takes the next step.
  request->worker = entry->worker;
  request->generation = entry->generation;
  request->move_to = move.worker;
  entry->moving = true;
  router_.log().info("[session {}] moving from [worker {}] to [worker {}]: stopping it there",
                     move.session, entry->worker, move.worker);
  router_.toWorkerBody(entry->worker, MessageType::kTerminate,
                       msg::Terminate{request->id, entry->name, entry->generation});
}

void ClientRequestHandler::onTranscript(const std::string& client,
                                        const msg::TranscriptRequest& request) {
  if (!checkName(client, request.id, request.session)) return;
  const Transcript* transcript = router_.transcripts().get(request.session);
  if (transcript == nullptr && !router_.sessions().find(request.session)) {
    return notFound(client, request.id, request.session);
  }
  msg::TranscriptResult result;
  result.id = request.id;
  result.session = request.session;
  if (transcript != nullptr) {
    result.session_id = transcript->session_id;
    result.jsonl = TranscriptStore::jsonl(*transcript);
    result.entries = transcript->entries.size();
    result.bytes = result.jsonl.size();
    result.dropped_entries = transcript->dropped;
    result.last_entry_ms = transcript->last_entry_ms;
    result.complete = transcript->complete();
    result.cut = transcript->cutReason();
  }
  router_.outbox().toClientBody(client, MessageType::kResult, result);
}

void ClientRequestHandler::onList(const std::string& client, uint64_t id) {
  msg::ListResult result{id, {}};
  result.sessions.reserve(router_.sessions().size());
  for (const auto& [name, entry] : router_.sessions().entries()) {
    result.sessions.push_back(router_.describe(entry));
  }
  router_.outbox().toClientBody(client, MessageType::kResult, result);
}

void ClientRequestHandler::onCount(const std::string& client, uint64_t id) {
  msg::CountResult result{id, router_.sessions().size(), {}};
  for (const auto& [name, entry] : router_.sessions().entries()) {
    const bool stopping = entry.terminating && entry.state != session_state::kStopped;
    ++result.states[stopping ? std::string(session_state::kStopping) : entry.state];
  }
  router_.outbox().toClientBody(client, MessageType::kResult, result);
}

void ClientRequestHandler::onStatus(const std::string& client, uint64_t id) {
  msg::StatusResult result;
  result.id = id;
  result.version = kVersion;
  result.uptime_ms = uptimeMs();
  const auto now = router_.clock().now();
  for (const auto& [worker_id, worker] : router_.workers().entries()) {
    const auto age = std::chrono::duration_cast<Millis>(now - worker.last_heard).count();
    result.workers.push_back(msg::WorkerInfo{
        worker_id, worker.capacity, static_cast<uint32_t>(router_.sessions().countOn(worker_id)),
        worker.labels, static_cast<uint64_t>(std::max<int64_t>(0, age)), worker.max_live,
        worker.live, worker.hibernated});
  }
  result.sessions = router_.sessions().size();
  result.pending_sessions = router_.sessions().pendingCount();
  result.requests_in_flight = router_.requests().size();
  result.malformed_messages = router_.stats().malformed_messages;
  result.stale_messages = router_.stats().stale_messages;
  result.workers_lost = router_.stats().workers_lost;
  result.curve = !router_.config().curve_secret_file.empty();
  result.insecure = router_.config().insecure && !result.curve;
  result.refused_handshakes = router_.stats().refused_handshakes;
  result.unauthorized = router_.stats().unauthorized;
  result.refused_worker_ids = router_.stats().refused_worker_ids;
  result.reloads = router_.stats().reloads;
  result.failed_reloads = router_.stats().failed_reloads;
  const auto& transcripts = router_.transcripts();
  result.transcript_bytes = transcripts.residentBytes();
  result.transcript_dropped_entries = transcripts.stats().dropped_entries;
  result.transcript_evictions = transcripts.stats().evictions;
  result.transcript_rejected = transcripts.stats().rejected;
  result.transcript_write_errors = transcripts.stats().write_errors;
  result.transcript_duplicates = transcripts.stats().duplicates;
  result.transcript_gaps = transcripts.stats().gaps;
  result.transcript_damaged_files = transcripts.stats().damaged_files;
  router_.outbox().toClientBody(client, MessageType::kResult, result);
}

void ClientRequestHandler::onPing(const std::string& client, const msg::Ping& ping) {
  msg::PingResult result{ping.id, kVersion, uptimeMs()};
  // Requests the client still waits for that this broker never saw, or has lost: the
  // client can end them now instead of at their deadline.
  for (uint64_t pending : ping.pending) {
    if (!router_.holds(client, pending)) result.unknown.push_back(pending);
  }
  router_.outbox().toClientBody(client, MessageType::kResult, result);
}

void ClientRequestHandler::rejectMalformed(const std::string& client, uint64_t id,
                                           const Error& error, std::string_view what) {
  ++router_.stats().malformed_messages;
  warnings_.warn("[client {}] {}: {}", peerName(client), what, error.message);
  router_.replyError(client, id, error.code, error.message);
}

bool ClientRequestHandler::checkName(const std::string& client, uint64_t id,
                                     const std::string& name) {
  auto bad = validateSessionName(name);
  if (!bad) return true;
  router_.replyError(client, id, bad->code, bad->message);
  return false;
}

void ClientRequestHandler::notFound(const std::string& client, uint64_t id,
                                    const std::string& name) {
  if (!router_.sessions().find(name) && router_.recovery().uncertain(router_.clock().now())) {
    router_.replyError(client, id, ErrorCode::kUnavailable, recoveringMessage(name), name);
    return;
  }
  router_.replyError(client, id, ErrorCode::kNotFound, "no session named " + name, name);
}

std::string ClientRequestHandler::recoveringMessage(const std::string& name) const {
  const auto left = std::chrono::ceil<Millis>(router_.recovery().ends() - router_.clock().now());
  return "the broker has just started and workers may still report session " + name +
         "; retry in " + std::to_string(std::max<int64_t>(0, left.count())) + " ms";
}

uint64_t ClientRequestHandler::uptimeMs() const {
  const auto up = std::chrono::duration_cast<Millis>(router_.clock().now() - started_).count();
  return static_cast<uint64_t>(std::max<int64_t>(0, up));
}

}  // namespace ccmesh::broker
