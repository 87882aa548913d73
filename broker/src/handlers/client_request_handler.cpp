#include "handlers/client_request_handler.hpp"

#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "ccmesh/common/version.hpp"
#include "peer_name.hpp"

namespace ccmesh::broker {

ClientRequestHandler::ClientRequestHandler(BrokerCore& core, WatchFeed& feed, AccessControl& access,
                                           RateLimitedLog& warnings,
                                           std::function<BrokerStats()> stats, TimePoint started)
    : core_(core),
      feed_(feed),
      access_(access),
      warnings_(warnings),
      stats_(std::move(stats)),
      started_(started) {}

bool ClientRequestHandler::handles(MessageType type) {
  switch (type) {
    case MessageType::kQuery:
    case MessageType::kCancel:
    case MessageType::kPermissionReply:
    case MessageType::kSet:
    case MessageType::kContext:
    case MessageType::kUsage:
    case MessageType::kBudget:
    case MessageType::kStart:
    case MessageType::kTerminate:
    case MessageType::kRestart:
    case MessageType::kInfo:
    case MessageType::kMove:
    case MessageType::kTranscript:
    case MessageType::kList:
    case MessageType::kCount:
    case MessageType::kStatus:
    case MessageType::kPing:
    case MessageType::kWatch:
      return true;
    default:
      return false;
  }
}

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
  // (A watch's session is optional: onWatch checks it.)
  if constexpr (requires { body->session; } && !std::is_same_v<T, msg::Watch>) {
    if (auto bad = validateSessionName(body->session)) {
      core_.replyError(client, body->id, bad->code, bad->message);
      return;
    }
  }
  then(std::move(*body));
}

void ClientRequestHandler::handle(const std::string& client, const Envelope& envelope,
                                  const Caller& caller) {
  switch (envelope.type) {
    case MessageType::kQuery:
      return with<msg::Query>(client, envelope,
                              [&](const msg::Query& q) { onQuery(client, msg::viewOf(q)); });
    case MessageType::kCancel:
      return with<msg::Cancel>(client, envelope, [&](msg::Cancel c) {
        if (!feed_.cancel(client, c.id)) core_.cancel(client, c.id);
      });
    case MessageType::kPermissionReply:
      return onPermissionReply(client, envelope, caller);
    case MessageType::kSet:
      return with<msg::Set>(client, envelope, [&](msg::Set s) { onSet(client, s); });
    case MessageType::kContext:
      return with<msg::ContextRequest>(client, envelope,
                                       [&](msg::ContextRequest c) { core_.askContext(client, c); });
    case MessageType::kUsage:
      return with<msg::UsageRequest>(client, envelope,
                                     [&](msg::UsageRequest u) { core_.usage(client, u); });
    case MessageType::kBudget:
      return with<msg::BudgetRequest>(client, envelope, [&](msg::BudgetRequest b) {
        if (auto bad = validateSessionName(b.name)) {
          return core_.replyError(client, b.id, bad->code, bad->message);
        }
        core_.budget(client, b);
      });
    case MessageType::kStart:
      return with<msg::Start>(client, envelope, [&](msg::Start s) { onStart(client, caller, s); });
    case MessageType::kTerminate:
      return with<msg::Terminate>(client, envelope,
                                  [&](msg::Terminate t) { core_.terminate(client, t); });
    case MessageType::kRestart:
      return with<msg::Restart>(client, envelope,
                                [&](msg::Restart r) { core_.restart(client, r); });
    case MessageType::kInfo:
      return with<msg::Info>(client, envelope, [&](msg::Info i) { onInfo(client, i); });
    case MessageType::kMove:
      return with<msg::Move>(client, envelope, [&](msg::Move m) { core_.beginMove(client, m); });
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
    case MessageType::kWatch:
      return with<msg::Watch>(client, envelope, [&](msg::Watch w) { onWatch(client, w); });
    default:
      rejectMalformed(client, envelope.id,
                      {ErrorCode::kBadRequest, "'" + std::string(messageTypeName(envelope.type)) +
                                                   "' is not a request a client may send"},
                      "not a client request");
  }
}

std::optional<msg::QueryView> ClientRequestHandler::readQuery(
    std::span<const zmq::message_t> frames) {
  if (frames.size() != 3 || frames[0].to_string_view() != kProtocolTag ||
      frames[1].to_string_view() != messageTypeName(MessageType::kQuery)) {
    return std::nullopt;
  }
  BodyFields& fields = query_fields_;
  // Each field must have the type decodeBody<msg::Query> converts; a generation is read
  // only to check that (the broker sets its own).
  if (!fields.read(frames[2].to_string_view()) || fields.id().value_or(0) == 0) {
    return std::nullopt;
  }
  const auto session = fields.stringField(0);
  const auto prompt = fields.stringField(1);
  const auto stream = fields.boolField(2);
  const auto timeout_ms = fields.unsignedField(3);
  if (!session || !prompt || !stream || !timeout_ms || !fields.unsignedField(4)) {
    return std::nullopt;
  }
  return msg::QueryView{*fields.id(), *session, *prompt, *stream, *timeout_ms, 0};
}

void ClientRequestHandler::query(const std::string& client, const msg::QueryView& query) {
  if (auto bad = validateSessionName(query.session)) {
    core_.replyError(client, query.id, bad->code, bad->message);
    return;
  }
  onQuery(client, query);
}

void ClientRequestHandler::onQuery(const std::string& client, const msg::QueryView& query) {
  const auto limit = core_.config().max_prompt_bytes;
  if (query.prompt.size() > limit) {
    core_.replyError(client, query.id, ErrorCode::kBadRequest,
                     "prompt is " + std::to_string(query.prompt.size()) + " bytes; the limit is " +
                         std::to_string(limit) + " (--max-prompt-bytes)",
                     std::string(query.session));
    return;
  }
  core_.admitQuery(client, query);
}

void ClientRequestHandler::onPermissionReply(const std::string& client, const Envelope& envelope,
                                             const Caller& caller) {
  auto reply = decodeBody<msg::PermissionReply>(envelope);
  if (!reply || reply->id == 0) {
    // Never answered with the query's id: the client would take it for the query's end.
    const std::string why = reply ? "query id must be non-zero" : reply.error().error.message;
    return rejectMalformed(client, 0, {ErrorCode::kBadRequest, "permission_reply: " + why},
                           "malformed permission_reply");
  }
  // The worker refuses what is neither allow nor deny (the turn then goes on denied).
  core_.answerPermission(client, caller.name.empty() ? peerName(client) : caller.name,
                         std::move(*reply));
}

void ClientRequestHandler::onSet(const std::string& client, const msg::Set& set) {
  SessionOptions changed;
  changed.model = set.model;
  changed.permission_mode = set.permission_mode;
  std::optional<Error> bad;
  if (set.model.empty() && set.permission_mode.empty()) {
    bad = Error{ErrorCode::kBadRequest, "set: give a model, a permission_mode, or both"};
  } else if (!set.model.empty() && set.model.front() == '-') {
    bad = Error{ErrorCode::kBadRequest, "set: bad model name"};
  } else {
    bad = changed.validate();
  }
  if (bad) return core_.replyError(client, set.id, bad->code, bad->message, set.session);
  core_.set(client, set);
}

void ClientRequestHandler::onStart(const std::string& client, const Caller& caller,
                                   const msg::Start& start) {
  if (auto bad = start.options.validate()) {
    core_.replyError(client, start.id, bad->code, bad->message, start.session);
    return;
  }
  const std::size_t added = core_.sessions().find(start.session) == nullptr ? 1 : 0;
  if (auto refused = access_.admitNewSessions(caller, client, added)) {
    core_.replyError(client, start.id, refused->code, refused->message, start.session);
    return;
  }
  core_.start(client, start, caller.name);
}

void ClientRequestHandler::onInfo(const std::string& client, const msg::Info& info) {
  const auto* entry = core_.sessions().find(info.session);
  if (!entry) return core_.notFound(client, info.id, info.session);
  core_.reply(client, MessageType::kResult, msg::InfoResult{info.id, core_.describe(*entry)});
}

void ClientRequestHandler::onTranscript(const std::string& client,
                                        const msg::TranscriptRequest& request) {
  const Transcript* transcript = core_.readTranscript(request.session);
  if (transcript == nullptr && !core_.sessions().find(request.session)) {
    return core_.notFound(client, request.id, request.session);
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
  core_.reply(client, MessageType::kResult, result);
}

msg::ListResult ClientRequestHandler::list(uint64_t id) const {
  msg::ListResult result{id, {}};
  result.sessions.reserve(core_.sessions().size());
  for (const auto& [name, entry] : core_.sessions().entries()) {
    result.sessions.push_back(core_.describe(entry));
  }
  return result;
}

msg::CountResult ClientRequestHandler::count(uint64_t id) const {
  msg::CountResult result{id, core_.sessions().size(), {}};
  for (const auto& [name, entry] : core_.sessions().entries()) {
    const bool stopping = entry.terminating && entry.state != session_state::kStopped;
    ++result.states[stopping ? std::string(session_state::kStopping) : entry.state];
  }
  return result;
}

void ClientRequestHandler::onList(const std::string& client, uint64_t id) {
  core_.reply(client, MessageType::kResult, list(id));
}

void ClientRequestHandler::onCount(const std::string& client, uint64_t id) {
  core_.reply(client, MessageType::kResult, count(id));
}

void ClientRequestHandler::onStatus(const std::string& client, uint64_t id) {
  core_.reply(client, MessageType::kResult, status(id));
}

msg::StatusResult ClientRequestHandler::status(uint64_t id) const {
  msg::StatusResult result;
  result.id = id;
  result.version = kVersion;
  result.uptime_ms = uptimeMs();
  if (ha_) result.ha = ha_();
  const auto now = core_.clock().now();
  const auto& sessions = core_.sessions();
  for (const auto& [worker_id, worker] : core_.workers().entries()) {
    const auto age = std::chrono::duration_cast<Millis>(now - worker.last_heard).count();
    result.workers.push_back(msg::WorkerInfo{
        worker_id, worker.capacity, static_cast<uint32_t>(sessions.countOn(worker_id)),
        worker.labels, static_cast<uint64_t>(std::max<int64_t>(0, age)), worker.max_live,
        worker.live, worker.hibernated, core_.workerUsage(worker_id)});
  }
  result.sessions = sessions.size();
  result.pending_sessions = sessions.pendingCount();
  result.requests_in_flight = core_.requests().size();
  const BrokerStats stats = stats_();
  result.malformed_messages = stats.malformed_messages;
  result.stale_messages = stats.stale_messages;
  result.workers_lost = stats.workers_lost;
  const auto& config = core_.config();
  result.curve = !config.curve_secret_file.empty();
  result.insecure = config.insecure && !result.curve;
  result.refused_handshakes = stats.refused_handshakes;
  result.unauthorized = stats.unauthorized;
  result.refused_worker_ids = stats.refused_worker_ids;
  result.reloads = stats.reloads;
  result.failed_reloads = stats.failed_reloads;
  const auto& transcripts = core_.transcripts();
  result.transcript_bytes = transcripts.residentBytes();
  result.transcript_dropped_entries = transcripts.stats().dropped_entries;
  result.transcript_evictions = transcripts.stats().evictions;
  result.transcript_rejected = transcripts.stats().rejected;
  result.transcript_write_errors = transcripts.stats().write_errors;
  result.transcript_duplicates = transcripts.stats().duplicates;
  result.transcript_gaps = transcripts.stats().gaps;
  result.transcript_damaged_files = transcripts.stats().damaged_files;
  result.usage = core_.totalUsage();
  result.budget_exhausted = core_.budgetRefusals();
  return result;
}

void ClientRequestHandler::onPing(const std::string& client, const msg::Ping& ping) {
  msg::PingResult result{ping.id, kVersion, uptimeMs()};
  // Requests the client still waits for that this broker never saw, or has lost: the
  // client can end them now instead of at their deadline.
  for (uint64_t pending : ping.pending) {
    if (!core_.holds(client, pending) && !feed_.holds(client, pending)) {
      result.unknown.push_back(pending);
    }
  }
  core_.reply(client, MessageType::kResult, result);
}

void ClientRequestHandler::onWatch(const std::string& client, const msg::Watch& watch) {
  if (!watch.session.empty()) {
    if (auto bad = validateSessionName(watch.session)) {
      return core_.replyError(client, watch.id, bad->code, bad->message);
    }
  }
  if (!watch.pool.empty()) {
    if (auto bad = validatePoolName(watch.pool)) {
      return core_.replyError(client, watch.id, bad->code, bad->message);
    }
  }
  feed_.watch(client, watch);
}

void ClientRequestHandler::rejectMalformed(const std::string& client, uint64_t id,
                                           const Error& error, std::string_view what) {
  core_.refused(event::Refusal::kMalformed, peerName(client));
  warnings_.warn("[client {}] {}: {}", peerName(client), what, error.message);
  core_.replyError(client, id, error.code, error.message);
}

uint64_t ClientRequestHandler::uptimeMs() const {
  const auto up = std::chrono::duration_cast<Millis>(core_.clock().now() - started_).count();
  return static_cast<uint64_t>(std::max<int64_t>(0, up));
}

}  // namespace ccmesh::broker
