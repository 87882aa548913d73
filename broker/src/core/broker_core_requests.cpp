// BrokerCore, continued: what clients ask of sessions (start, query, cancel, terminate,
// restart, move) and what happens when a client goes away.
#include "core/broker_core.hpp"

namespace ccmesh::broker {

void BrokerCore::declare(const std::vector<SessionSpec>& specs) {
  for (const auto& spec : specs) {
    if (!registerSession(spec.name, spec.options, {})) {
      logger_->warn("[session {}] declared twice; the first declaration wins", spec.name);
    }
  }
  if (!specs.empty()) {
    logger_->info("{} session(s) from the sessions file, pending until workers connect",
                  specs.size());
  }
  placePending();
}

bool BrokerCore::refuseDuplicateId(const std::string& client, uint64_t id, bool held_elsewhere) {
  if (!held_elsewhere && !holds(client, id)) return false;
  replyError(client, id, ErrorCode::kDuplicateId,
             "request id " + std::to_string(id) +
                 " is already in flight from this client; this request was refused, that one "
                 "goes on");
  return true;
}

void BrokerCore::admitQuery(const std::string& client, const msg::QueryView& query) {
  auto* entry = sessions_.find(query.session);
  if (!entry || entry->terminating) return notFound(client, query.id, std::string(query.session));
  if (auto spent = budgetSpent(*entry)) {
    return replyError(client, query.id, ErrorCode::kBudgetExhausted, *spent, entry->name);
  }
  const bool placed = !entry->worker.empty();
  if (!placed && requests_.waitingFor(entry->name).size() >= config_.pending_limit) {
    replyError(client, query.id, ErrorCode::kBusy,
               "session " + entry->name + " has " +
                   std::to_string(requests_.waitingFor(entry->name).size()) +
                   " queries waiting for a worker",
               entry->name);
    return;
  }
  auto* request = addRequest(client, query.id, RequestKind::kQuery, entry->name, clock_.now());
  // The prompt is the one copy made of the query; forwardQuery sets the session.
  request->query =
      msg::Query{query.id, {}, std::string(query.prompt), query.stream, query.timeout_ms, 0};
  events_.emit(event::QueryAdmitted{request->id, request->session, {}});
  enqueueWaiting(*request);
  if (placed) forwardWaiting(*entry);
}

void BrokerCore::cancel(const std::string& client, uint64_t id) {
  auto* request = requests_.findByClient(client, id);
  if (!request) {
    // A checkout waiting for a member is no request in flight: ended here, or never granted.
    if (auto pool = pools_.cancelWaiting(client, id)) {
      logger_->debug("[pool {}] waiting checkout {} cancelled by its client", *pool, id);
      replyError(client, id, ErrorCode::kCancelled, "cancelled by the client");
    }
    return;  // unknown ids are ignored: the request may have ended already
  }
  if (request->client_gone || request->kind != RequestKind::kQuery) return;
  if (request->worker.empty()) {
    failRequest(request->id, ErrorCode::kCancelled, "cancelled by the client");
  } else {
    toWorkerBody(request->worker, MessageType::kCancel, msg::Cancel{request->id});
  }
}

void BrokerCore::start(const std::string& client, const msg::Start& start,
                       const std::string& creator) {
  if (!sessions_.find(start.session) && recovery_.recovering(clock_.now())) {
    // A worker that has not reconnected yet may run this name.
    replyError(client, start.id, ErrorCode::kUnavailable,
               recoveringMessage("session " + start.session), start.session);
    return;
  }
  std::optional<ForkOrigin> fork;
  if (!start.fork_of.empty() && !sessions_.find(start.session)) {
    auto origin = forkOrigin(start.fork_of);
    if (!origin) {
      replyError(client, start.id, origin.error().code, origin.error().message, start.session);
      return;
    }
    fork = std::move(*origin);
  }
  if (!registerSession(start.session, start.options, creator)) {
    replyError(client, start.id, ErrorCode::kAlreadyExists,
               "session " + start.session + " already exists", start.session);
    return;
  }
  if (fork) {
    logger_->info("[session {}] forks session {} (conversation {})", start.session, fork->source,
                  fork->session_id);
    sessions_.find(start.session)->fork = std::move(fork);
  }
  // A new session is a new conversation, whatever an older one of that name left behind.
  transcripts_->remove(start.session);
  auto* request = addRequest(client, start.id, RequestKind::kStart, start.session,
                             clock_.now() + config_.control_timeout);
  const uint64_t request_id = request->id;
  if (place(start.session, request_id)) {
    const auto* entry = sessions_.find(start.session);
    logger_->info("[session {}] started on [worker {}] generation {}", start.session, entry->worker,
                  entry->generation);
  } else {
    logger_->info("[session {}] registered; pending until a worker has room", start.session);
    ackRequest(request_id, session_state::kPending);
  }
}

void BrokerCore::sendTerminate(SessionEntry& entry, BrokerRequest& request) {
  request.worker = entry.worker;
  request.generation = entry.generation;
  entry.terminating = true;
  toWorkerBody(entry.worker, MessageType::kTerminate,
               msg::Terminate{request.id, entry.name, entry.generation});
}

void BrokerCore::terminate(const std::string& client, const msg::Terminate& terminate) {
  auto* entry = sessions_.find(terminate.session);
  if (!entry || entry->terminating) return notFound(client, terminate.id, terminate.session);
  if (entry->worker.empty()) {
    // Never placed: nothing runs anywhere, the name just goes away.
    const uint64_t generation = entry->generation;
    failWaiting(*entry, ErrorCode::kCancelled, "session " + terminate.session + " was terminated");
    removeSession(terminate.session, "terminated while pending");
    logger_->info("[session {}] terminated while pending", terminate.session);
    reply(client, MessageType::kResult,
          msg::Ack{terminate.id, terminate.session, "", generation,
                   std::string(session_state::kStopped)});
    return;
  }
  auto* request = addRequest(client, terminate.id, RequestKind::kTerminate, terminate.session,
                             clock_.now() + config_.control_timeout);
  logger_->info("[session {}] terminating on [worker {}]", entry->name, entry->worker);
  sendTerminate(*entry, *request);
}

void BrokerCore::restart(const std::string& client, const msg::Restart& restart) {
  auto* entry = sessions_.find(restart.session);
  if (!entry || entry->terminating) return notFound(client, restart.id, restart.session);
  // A cut conversation (docs/SESSIONS.md): --from-cut takes what is left as its history from
  // now on; a restart without history starts afresh, which drops the cut with the old one.
  if (restart.from_cut) {
    transcripts_->acceptCut(restart.session);
  } else if (!restart.keep_history) {
    entry->cut.clear();
    entry->fork.reset();  // a new conversation, not the fork's
  }
  if (entry->worker.empty()) {
    if (restart.from_cut) entry->cut.clear();
    reply(client, MessageType::kResult,
          msg::Ack{restart.id, restart.session, "", entry->generation,
                   std::string(session_state::kPending)});
    return;
  }
  auto* request = addForwarded(client, restart.id, RequestKind::kRestart, *entry);
  request->keep_history = restart.keep_history || restart.from_cut;
  toWorkerBody(entry->worker, MessageType::kRestart,
               msg::Restart{request->id, entry->name, request->keep_history, entry->generation,
                            restart.from_cut});
}

void BrokerCore::set(const std::string& client, const msg::Set& set) {
  auto* entry = sessions_.find(set.session);
  if (!entry || entry->terminating) return notFound(client, set.id, set.session);
  if (entry->moving) {
    replyError(client, set.id, ErrorCode::kBusy,
               "session " + set.session + " is moving; set it once it runs again", set.session);
    return;
  }
  if (entry->worker.empty()) {
    // No copy runs: its next placement starts with the new options.
    applySettings(*entry, set);
    reply(client, MessageType::kResult,
          msg::Ack{set.id, set.session, "", entry->generation, entry->state});
    return;
  }
  auto* request = addForwarded(client, set.id, RequestKind::kSet, *entry);
  request->settings = set;
  msg::Set forwarded = set;
  forwarded.id = request->id;
  forwarded.generation = entry->generation;
  toWorkerBody(entry->worker, MessageType::kSet, forwarded);
}

BrokerRequest* BrokerCore::addForwarded(const std::string& client, uint64_t id, RequestKind kind,
                                        const SessionEntry& entry) {
  auto* request = addRequest(client, id, kind, entry.name, clock_.now() + config_.control_timeout);
  request->worker = entry.worker;
  request->generation = entry.generation;
  return request;
}

void BrokerCore::applySettings(SessionEntry& entry, const msg::Set& set) {
  if (!set.model.empty()) entry.options.model = set.model;
  if (!set.permission_mode.empty()) entry.options.permission_mode = set.permission_mode;
  logger_->info("[session {}] set{}{}", entry.name, set.model.empty() ? "" : " model " + set.model,
                set.permission_mode.empty() ? "" : " permission_mode " + set.permission_mode);
}

void BrokerCore::askContext(const std::string& client, const msg::ContextRequest& context) {
  auto* entry = sessions_.find(context.session);
  if (!entry || entry->terminating) return notFound(client, context.id, context.session);
  if (entry->worker.empty()) {
    replyError(client, context.id, ErrorCode::kUnavailable,
               "session " + context.session + " runs on no worker yet", context.session);
    return;
  }
  auto* request = addForwarded(client, context.id, RequestKind::kContext, *entry);
  toWorkerBody(entry->worker, MessageType::kContext,
               msg::ContextRequest{request->id, entry->name, entry->generation});
}

void BrokerCore::beginMove(const std::string& client, const msg::Move& move) {
  auto* entry = sessions_.find(move.session);
  if (!entry || entry->terminating) return notFound(client, move.id, move.session);
  const auto* target = workers_.find(move.worker);
  if (target == nullptr || target->lost()) {
    replyError(client, move.id, ErrorCode::kNotFound, "no live worker " + move.worker,
               move.session);
    return;
  }
  if (entry->moving) {
    replyError(client, move.id, ErrorCode::kBusy, "session " + move.session + " is already moving",
               move.session);
    return;
  }
  if (entry->worker == move.worker) {
    reply(client, MessageType::kResult,
          msg::Ack{move.id, move.session, entry->worker, entry->generation, entry->state});
    return;
  }
  for (const auto& [label, value] : entry->options.require) {
    auto it = target->labels.find(label);
    if (it == target->labels.end() || it->second != value) {
      replyError(client, move.id, ErrorCode::kBadRequest,
                 "worker " + move.worker + " lacks the label " + label + "=" + value + " session " +
                     move.session + " requires",
                 move.session);
      return;
    }
  }
  if (sessions_.countOn(move.worker) >= target->capacity) {
    replyError(client, move.id, ErrorCode::kBusy,
               "worker " + move.worker + " is at capacity (" + std::to_string(target->capacity) +
                   " sessions)",
               move.session);
    return;
  }
  auto* request = addRequest(client, move.id, RequestKind::kMove, move.session,
                             clock_.now() + config_.control_timeout);
  if (entry->worker.empty()) {
    moveTo(move.session, move.worker, request->id);  // pending: nothing to stop
    return;
  }
  // Stop the old copy gently first, so its CLI writes (and mirrors) the whole transcript;
  // queries wait in the broker meanwhile. settleReply() takes the next step.
  request->worker = entry->worker;
  request->generation = entry->generation;
  request->move_to = move.worker;
  entry->moving = true;
  logger_->info("[session {}] moving from [worker {}] to [worker {}]: stopping it there",
                move.session, entry->worker, move.worker);
  toWorkerBody(entry->worker, MessageType::kTerminate,
               msg::Terminate{request->id, entry->name, entry->generation});
}

void BrokerCore::clientLost(const std::string& client) {
  for (uint64_t id : requests_.ofClient(client)) {
    auto* request = requests_.find(id);
    if (!request) continue;
    if (request->worker.empty() && request->kind == RequestKind::kQuery) {
      forget(id, "client_gone");  // waiting in the broker: nobody wants it any more
      continue;
    }
    request->client_gone = true;
    if (request->kind == RequestKind::kQuery && !request->worker.empty()) {
      toWorkerBody(request->worker, MessageType::kCancel, msg::Cancel{id});
    }
  }
}

}  // namespace ccmesh::broker
