#include "session_table.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/limits.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "ccmesh/worker/conversation_file.hpp"

namespace ccmesh::worker {
namespace {

// Checks what only the worker can: the working directory exists here.
std::optional<Error> checkLocalOptions(const SessionOptions& options) {
  if (options.cwd.empty()) return std::nullopt;
  struct stat info {};
  if (::stat(options.cwd.c_str(), &info) != 0) {
    return Error{ErrorCode::kBadRequest, "option cwd: " + options.cwd + " does not exist"};
  }
  if (!S_ISDIR(info.st_mode)) {
    return Error{ErrorCode::kBadRequest, "option cwd: " + options.cwd + " is not a directory"};
  }
  return std::nullopt;
}

// Room kept for everything but the text when a reply must be cut to the body limit.
constexpr std::size_t kEnvelopeSlack = 64u << 10;

// `text` cut to at most `limit` bytes, not inside a UTF-8 sequence.
std::string truncateUtf8(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

SessionTable::SessionTable(const SessionContext& context, uint32_t capacity, Outbox outbox,
                           uint32_t max_live)
    : context_(context),
      capacity_(capacity),
      outbox_(std::move(outbox)),
      deltas_({kMaxMergedDeltaBytes, context.delta_window}),
      budget_(max_live) {}

SessionTable::~SessionTable() = default;

void SessionTable::assign(const msg::Assign& assign) {
  if (auto bad = validateSessionName(assign.session)) {
    replyError(assign.id, bad->code, bad->message, assign.session);
    return;
  }
  if (!assign.transcript.empty() && !ConversationFile::usableSessionId(assign.session_id)) {
    replyError(assign.id, ErrorCode::kBadRequest,
               "assign: session_id '" + assign.session_id.substr(0, 64) +
                   "' cannot name a transcript file",
               assign.session);
    return;
  }
  std::optional<Error> bad = assign.options.validate();
  if (!bad) bad = context_.policy.check(assign.options);
  if (!bad) bad = checkLocalOptions(assign.options);
  // A name moving here from another worker is held FAILED, saying why, rather than refused:
  // the broker keeps it here and `info` shows the reason; nothing starts in the wrong place.
  const bool hold_refused = bad && !assign.moved_from.empty();
  if (bad && !hold_refused) {
    replyError(assign.id, bad->code, bad->message, assign.session);
    return;
  }
  auto it = sessions_.find(assign.session);
  if (it != sessions_.end()) {
    Session& existing = *it->second;
    if (existing.generation() == assign.generation) {
      existing.acknowledge(assign.id);  // a repeated assign: nothing to do
      return;
    }
    context_.log->info("[session {}] generation {} replaces generation {}", assign.session,
                       assign.generation, existing.generation());
    if (auto pending = deferred_.find(assign.session); pending != deferred_.end()) {
      if (pending->second != 0) {
        replyError(pending->second, ErrorCode::kCancelled, "replaced by a newer generation",
                   assign.session);
      }
      deferred_.erase(pending);
    }
    wakeUp(existing);
    existing.terminate(0, "session replaced by generation " + std::to_string(assign.generation));
    retired_.push_back(std::move(it->second));
    sessions_.erase(it);
  } else if (sessions_.size() >= capacity_) {
    replyError(assign.id, ErrorCode::kUnavailable,
               "worker " + context_.worker_id + " is at capacity (" + std::to_string(capacity_) +
                   " sessions)",
               assign.session);
    return;
  }
  auto session =
      std::make_unique<Session>(assign.session, assign.generation, assign.options, context_, *this);
  Session& added = *session;
  sessions_.emplace(assign.session, std::move(session));
  track(added);
  added.carryUsage(assign.usage);
  if (assign.fork && !assign.transcript.empty()) {
    added.forkConversation(assign.session_id, assign.transcript);
  } else if (!assign.transcript.empty()) {
    added.seedConversation(assign.session_id, assign.transcript);
  }
  added.holdCut(assign.cut);
  if (hold_refused) {
    wakeUp(added);
    added.refuse(assign.id, bad->message + " on worker " + context_.worker_id);
    return;
  }
  if (hasRetired(assign.session)) {
    deferred_[assign.session] = assign.id;  // starts once the old copy has exited
  } else {
    added.start(assign.id);
  }
}

void SessionTable::query(const msg::Query& query) {
  Session* session = find(query.session, query.generation, query.id);
  if (session == nullptr) return;
  if (query.id != 0) query_owners_[query.id] = session;
  wakeUp(*session);
  session->query(query);
  // A session waiting for its turn to spawn now has a prompt to answer: it goes ahead of
  // those that only start (after a failover, names with queries come amid many without).
  if (session->queueDepth() > 0 && waitsForSpawnTurn(*session)) {
    enterSpawnLine(session->serial(), true);
  }
}

void SessionTable::cancel(uint64_t id) {
  auto it = query_owners_.find(id);
  if (it == query_owners_.end()) return;  // finished already, or never here: nothing to do
  it->second->cancel(id);
}

void SessionTable::set(const msg::Set& set) {
  Session* session = find(set.session, set.generation, set.id);
  if (session != nullptr) session->setLive(set);
}

void SessionTable::budget(const msg::BudgetUpdate& budget) {
  Session* session = find(budget.session, budget.generation, budget.id);
  if (session != nullptr) session->setBudget(budget);
}

void SessionTable::context(const msg::ContextRequest& context) {
  Session* session = find(context.session, context.generation, context.id);
  if (session != nullptr) session->askContext(context.id);
}

void SessionTable::permissionReply(const msg::PermissionReply& reply) {
  auto it = query_owners_.find(reply.id);
  if (it == query_owners_.end()) return;  // the query ended: its questions were denied then
  it->second->onPermissionReply(reply);
}

void SessionTable::terminate(const msg::Terminate& terminate) {
  Session* session = find(terminate.session, terminate.generation, terminate.id);
  if (session == nullptr) return;
  if (auto pending = deferred_.find(terminate.session); pending != deferred_.end()) {
    if (pending->second != 0) {
      replyError(pending->second, ErrorCode::kCancelled, "session terminated", terminate.session);
    }
    deferred_.erase(pending);
  }
  wakeUp(*session);
  if (terminate.id == 0) {
    // Fencing: the broker runs this name elsewhere with a newer generation. Nothing is
    // waited for; the copy here must stop now.
    session->terminate(0, "fenced: the session runs on another worker");
    session->kill();
    return;
  }
  session->terminate(terminate.id, "session terminated");
}

void SessionTable::restart(const msg::Restart& restart) {
  Session* session = find(restart.session, restart.generation, restart.id);
  if (session == nullptr) return;
  wakeUp(*session);
  if (deferred_.count(restart.session) != 0) {
    session->acknowledge(restart.id);  // it has not started yet: it will start fresh
    return;
  }
  session->restart(restart.id, restart.keep_history, restart.from_cut);
}

void SessionTable::terminateAll(const std::string& reason) {
  for (auto& [name, pending] : deferred_) {
    if (pending != 0) replyError(pending, ErrorCode::kCancelled, reason, name);
  }
  deferred_.clear();
  forEach([this, &reason](Session& session) {
    wakeUp(session);
    session.terminate(0, reason);
  });
}

void SessionTable::killAll() {
  forEach([](Session& session) { session.kill(); });
}

void SessionTable::fenceAll() {
  killAll();  // every group at once; the destructors below then only reap
  query_owners_.clear();
  deltas_.clear();
  deferred_.clear();
  awake_.clear();
  holders_.clear();
  spawn_line_.clear();
  prompted_line_.clear();
  in_spawn_line_.clear();
  budget_ = LiveBudget(budget_.maxLive());
  retired_.clear();
  sessions_.clear();
}

std::vector<msg::SessionReport> SessionTable::reports() const {
  std::vector<msg::SessionReport> reports;
  for (const auto& [name, session] : sessions_) {
    if (session->state() == SessionState::kStopped) continue;
    reports.push_back(msg::SessionReport{session->update(), session->options()});
  }
  return reports;
}

void SessionTable::forEach(const std::function<void(Session&)>& f) {
  for (auto& [name, session] : sessions_) f(*session);
  for (auto& session : retired_) f(*session);
}

void SessionTable::forEachAwake(const std::function<void(Session&)>& f) {
  // A copy: f may wake other sessions.
  const std::vector<Session*> awake(awake_.begin(), awake_.end());
  for (Session* session : awake) f(*session);
}

void SessionTable::onChildExited() {
  forEachAwake([](Session& session) { session.onChildExited(); });
}

void SessionTable::onTimer() {
  const TimePoint now = context_.clock->now();
  forEachAwake([now](Session& session) {
    if (auto due = session.nextDeadline(); due && *due <= now) session.onTimer();
  });
  spawnWaiting();
  balanceLive();
  collectFinished();
  pruneDormant();
  reportLoad(now);
}

std::optional<TimePoint> SessionTable::nextDeadline() const {
  std::optional<TimePoint> next;
  if (!spawn_line_.empty() || !prompted_line_.empty()) {
    return context_.clock->now();  // the next round spawns them
  }
  if (load_due_) next = load_sent_at_ + kLoadInterval;
  for (const Session* session : awake_) {
    auto due = session->nextDeadline();
    if (due && (!next || *due < *next)) next = due;
  }
  return next;
}

void SessionTable::collectFinished() {
  // Only an awake session can finish: stopping is something it was given to do.
  std::vector<Session*> finished;
  for (Session* session : awake_) {
    if (session->finished()) finished.push_back(session);
  }
  if (!finished.empty()) {
    // A stopped session has answered all its queries; drop any stale index entry anyway.
    std::erase_if(query_owners_, [](const auto& entry) { return entry.second->finished(); });
    for (Session* session : finished) forget(session);
  }
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    auto session = sessions_.find(it->first);
    if (session == sessions_.end()) {
      it = deferred_.erase(it);
    } else if (!hasRetired(it->first)) {
      const uint64_t ack_id = it->second;
      it = deferred_.erase(it);
      session->second->start(ack_id);
    } else {
      ++it;
    }
  }
}

void SessionTable::onSessionChanged(const msg::SessionUpdate& update) {
  // A replaced copy's news would confuse the broker about the current one.
  auto it = sessions_.find(update.session);
  if (it == sessions_.end() || it->second->generation() != update.generation) return;
  outbox_(MessageType::kSessionUpdate, encodeBody(update));
}

void SessionTable::onContext(const msg::ContextResult& result) {
  outbox_(MessageType::kResult, encodeBody(result));
}

void SessionTable::onPermissionRequest(const msg::PermissionRequest& request) {
  flushDelta(request.id, false);
  outbox_(MessageType::kPermissionRequest, encodeBody(request));
}

void SessionTable::onPermissionDecision(const msg::PermissionDecision& decision) {
  outbox_(MessageType::kPermissionDecision, encodeBody(decision));
}

void SessionTable::onDelivered(uint64_t id) {
  outbox_(MessageType::kDelivered, encodeBody(msg::Delivered{id}));
}

void SessionTable::onEvent(const msg::Event& event) {
  if (event.kind != "delta") {
    flushDelta(event.id, false);
    sendEvent(event);
    return;
  }
  deltas_.add(event, context_.clock->now(), link_backlog_(), merged_);
  sendDeltas(merged_);
}

void SessionTable::releaseDeltas() {
  deltas_.release(context_.clock->now(), link_backlog_(), merged_);
  sendDeltas(merged_);
}

void SessionTable::flushDeltas() {
  deltas_.takeAll(merged_);
  sendDeltas(merged_);
}

void SessionTable::sendDeltas(std::vector<msg::Event>& out) {
  for (const msg::Event& event : out) sendEvent(event);
  out.clear();
}

void SessionTable::flushDelta(uint64_t id, bool finished) {
  if (auto held = finished ? deltas_.finish(id) : deltas_.take(id)) sendEvent(*held);
}

// No body may exceed limits::kMaxBodyBytes: the broker would drop the connection. Texts
// that do not fit are cut, and an answer that does not fit becomes an error.
void SessionTable::sendEvent(const msg::Event& event) {
  if (event.text.size() + kEnvelopeSlack <= limits::kMaxBodyBytes) {
    outbox_(MessageType::kEvent, encodeBody(event));
    return;
  }
  msg::Event cut = event;
  cut.text = truncateUtf8(event.text, limits::kMaxBodyBytes - kEnvelopeSlack);
  outbox_(MessageType::kEvent, encodeBody(cut));
}

void SessionTable::onQueryResult(const msg::QueryResult& result) {
  query_owners_.erase(result.id);
  flushDelta(result.id, true);
  if (result.text.size() + kEnvelopeSlack <= limits::kMaxBodyBytes) {
    outbox_(MessageType::kResult, encodeBody(result));
    return;
  }
  onError(msg::ErrorReply{result.id, std::string(errorCodeName(ErrorCode::kInternal)),
                          "the answer has " + std::to_string(result.text.size()) +
                              " bytes, more than a message may carry (" +
                              std::to_string(limits::kMaxBodyBytes) + "); partial holds its start",
                          result.text, result.session});
}

void SessionTable::onError(const msg::ErrorReply& error) {
  query_owners_.erase(error.id);
  flushDelta(error.id, true);
  if (error.partial.size() + error.message.size() + kEnvelopeSlack <= limits::kMaxBodyBytes) {
    outbox_(MessageType::kError, encodeBody(error));
    return;
  }
  msg::ErrorReply cut = error;
  cut.message = truncateUtf8(error.message, 4096);
  cut.partial = truncateUtf8(error.partial, limits::kMaxBodyBytes - kEnvelopeSlack);
  outbox_(MessageType::kError, encodeBody(cut));
}

void SessionTable::onAck(const msg::Ack& ack) { outbox_(MessageType::kResult, encodeBody(ack)); }

void SessionTable::onTranscript(msg::TranscriptAppend batch) {
  // A replaced copy's entries belong to a placement the broker has moved on from.
  if (current(batch.session, batch.generation) == nullptr) return;
  outbox_(MessageType::kTranscriptAppend, encodeBody(batch));
}

void SessionTable::onTranscriptFetch(const msg::TranscriptFetch& fetch) {
  outbox_(MessageType::kTranscriptFetch, encodeBody(fetch));
}

void SessionTable::transcriptAck(const msg::TranscriptAck& ack) {
  if (Session* session = current(ack.session, ack.generation)) session->onTranscriptAck(ack);
}

void SessionTable::transcriptSeed(const msg::TranscriptSeed& seed) {
  Session* session = current(seed.session, seed.generation);
  if (session == nullptr) return;
  wakeUp(*session);
  session->onTranscriptSeed(seed);
}

void SessionTable::resendTranscripts() {
  for (auto& [name, session] : sessions_) session->resendTranscript();
}

Session* SessionTable::current(const std::string& name, uint64_t generation) const {
  auto it = sessions_.find(name);
  if (it == sessions_.end() || it->second->generation() != generation) return nullptr;
  return it->second.get();
}

Session* SessionTable::find(const std::string& name, uint64_t generation, uint64_t reply_id) {
  auto it = sessions_.find(name);
  if (it == sessions_.end() || it->second->finished()) {
    replyError(reply_id, ErrorCode::kNotFound, "no session " + name + " on this worker", name);
    return nullptr;
  }
  if (it->second->generation() != generation) {
    replyError(reply_id, ErrorCode::kNotFound,
               "session " + name + " here is generation " +
                   std::to_string(it->second->generation()) + ", not " + std::to_string(generation),
               name);
    return nullptr;
  }
  return it->second.get();
}

void SessionTable::replyError(uint64_t id, ErrorCode code, const std::string& message,
                              const std::string& session) {
  if (id == 0) return;
  outbox_(MessageType::kError,
          encodeBody(msg::ErrorReply{id, std::string(errorCodeName(code)), message, {}, session}));
}

bool SessionTable::hasRetired(const std::string& name) const {
  return std::any_of(retired_.begin(), retired_.end(),
                     [&name](const auto& session) { return session->name() == name; });
}

}  // namespace ccmesh::worker
