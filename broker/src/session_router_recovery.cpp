// SessionRouter, continued: what happens when workers die or stay silent, clients vanish,
// and deadlines pass.
#include <algorithm>
#include <map>

#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/worker_messages.hpp"
#include "session_router.hpp"

namespace ccmesh::broker {

void SessionRouter::recoverFrom(const std::string& worker_id,
                                const std::set<std::string>* still_held, TimePoint not_before) {
  auto holds = [&](const std::string& name) {
    return still_held != nullptr && still_held->count(name) > 0;
  };
  std::map<std::string, uint64_t> starts;  // session -> start request to carry over
  std::vector<uint64_t> restarts;          // restart requests to answer after re-placement
  std::set<std::string> requeued;          // sessions that got queries back
  for (uint64_t id : requests_.forwardedTo(worker_id)) {
    auto* request = requests_.find(id);
    auto* entry = sessions_.find(request->session);
    if (holds(request->session) && entry && entry->worker == worker_id &&
        entry->generation == request->generation) {
      continue;  // the worker still runs it
    }
    switch (request->kind) {
      case RequestKind::kQuery:
        if (request->delivered) {
          failRequest(id, ErrorCode::kWorkerLost,
                      "worker " + worker_id + " was lost after the prompt reached its CLI");
        } else if (request->client_gone) {
          forget(id);  // nobody waits for it: do not run it elsewhere
        } else if (!entry || entry->terminating) {
          failRequest(id, ErrorCode::kCancelled, "session " + request->session + " was terminated");
        } else {
          enqueueWaiting(*entry, *request);  // never reached a CLI: safe to send again
          requeued.insert(request->session);
        }
        break;
      case RequestKind::kStart:
        request->worker.clear();
        starts[request->session] = id;
        break;
      case RequestKind::kRestart:
      case RequestKind::kMove:  // the name moves by failover instead; answered below
        request->worker.clear();
        request->move_to.clear();
        restarts.push_back(id);
        break;
      case RequestKind::kTerminate:
        // The copy is gone with the worker: the terminate has done its job.
        if (entry && entry->terminating) {
          failWaiting(*entry, ErrorCode::kCancelled, "session " + entry->name + " was terminated");
          sessions_.remove(entry->name);
        }
        request->worker.clear();
        finishRequest(
            id, MessageType::kResult,
            encodeBody(msg::Ack{request->client_id, request->session, worker_id,
                                request->generation, std::string(session_state::kStopped)}));
        break;
    }
  }

  std::vector<std::string> moved;
  for (const auto& name : std::vector<std::string>(sessions_.sessionsOn(worker_id).begin(),
                                                   sessions_.sessionsOn(worker_id).end())) {
    if (holds(name)) continue;
    auto* entry = sessions_.find(name);
    if (entry->terminating) {
      logger_->info("[session {}] stopped with [worker {}]", name, worker_id);
      failWaiting(*entry, ErrorCode::kCancelled, "session " + name + " was terminated");
      sessions_.remove(name);
      continue;
    }
    sessions_.unplace(name);
    entry->not_before = not_before;
    moved.push_back(name);
  }
  const bool held_back = !moved.empty() && clock_.now() < not_before;
  if (held_back) {
    release_at_ = release_at_ ? std::min(*release_at_, not_before) : not_before;
    logger_->warn(
        "[worker {}] was replaced by a new process while its old one may still run: its {} "
        "session(s) wait {} ms, until the old lease has surely lapsed",
        worker_id, moved.size(), std::chrono::ceil<Millis>(not_before - clock_.now()).count());
  }

  for (const auto& name : moved) {
    uint64_t start_id = 0;
    if (auto it = starts.find(name); it != starts.end()) {
      start_id = it->second;
      starts.erase(it);
    }
    if (place(name, start_id, worker_id)) {
      const auto* entry = sessions_.find(name);
      logger_->info("[session {}] moved from [worker {}] to [worker {}] generation {}", name,
                    worker_id, entry->worker, entry->generation);
    } else if (held_back) {
      if (start_id != 0) ackRequest(start_id, session_state::kPending);
    } else {
      logger_->warn("[session {}] left [worker {}]; pending: no worker has room", name, worker_id);
      if (start_id != 0) ackRequest(start_id, session_state::kPending);
    }
  }
  for (const auto& [name, id] : starts) {
    const auto* entry = sessions_.find(name);
    ackRequest(id, entry ? std::string_view(entry->state) : session_state::kPending);
  }
  for (uint64_t id : restarts) {
    const auto* request = requests_.find(id);
    const auto* entry = request ? sessions_.find(request->session) : nullptr;
    ackRequest(id, entry ? std::string_view(entry->state) : session_state::kPending);
  }
  for (const auto& name : requeued) {
    if (auto* entry = sessions_.find(name)) forwardWaiting(*entry);
  }
}

void SessionRouter::dropWorker(const std::string& worker_id, std::string_view why) {
  auto* worker = workers_.find(worker_id);
  if (!worker) return;
  worker->lost = true;  // keeps placement off it while its names move
  ++stats_.workers_lost;
  logger_->warn("[worker {}] dead ({}): moving its {} session(s)", worker_id, why,
                sessions_.countOn(worker_id));
  recoverFrom(worker_id, nullptr);
  workers_.remove(worker_id);
  lost_why_.erase(worker_id);
}

void SessionRouter::dropClient(const std::string& client) {
  for (uint64_t id : requests_.ofClient(client)) {
    auto* request = requests_.find(id);
    if (!request) continue;
    if (request->worker.empty() && request->kind == RequestKind::kQuery) {
      forget(id);  // waiting in the broker: nobody wants it any more
      continue;
    }
    request->client_gone = true;
    if (request->kind == RequestKind::kQuery && !request->worker.empty()) {
      toWorkerBody(request->worker, MessageType::kCancel, msg::Cancel{id});
    }
  }
}

void SessionRouter::reapLost() {
  // Dropping a client may find a worker unreachable and the other way round; each peer is
  // dropped once, so this ends. The bound is a guard, not a limit ever reached.
  for (int round = 0; round < 64; ++round) {
    bool any = false;
    for (const auto& client : outbox_.takeLostClients()) {
      dropClient(client);
      any = true;
    }
    // Every worker marked lost has its reason in lost_why_, so only those are looked at,
    // not every worker on every message; a reason left by a worker that registered again
    // since (which clears `lost`) is dropped here.
    std::vector<std::string> lost;
    for (auto it = lost_why_.begin(); it != lost_why_.end();) {
      const auto* worker = workers_.find(it->first);
      if (worker != nullptr && worker->lost) {
        lost.push_back(it->first);
        ++it;
      } else {
        it = lost_why_.erase(it);
      }
    }
    std::sort(lost.begin(), lost.end());
    for (const auto& id : lost) {
      const std::string why = lost_why_[id];
      dropWorker(id, why);
      any = true;
    }
    if (!any) return;
  }
}

void SessionRouter::checkLiveness(TimePoint now) {
  // The worker's lease ran liveness x heartbeat from when it sent the heartbeat last
  // acknowledged, which it sent before the last message the broker received from it; one
  // fence margin later it has surely stopped its sessions.
  const auto limit = workerExpiry(config_);
  for (const auto& id : workers_.deadSince(now - limit)) {
    auto* worker = workers_.find(id);
    if (worker->lost) continue;
    worker->lost = true;
    lost_why_[id] = "silent for more than " + std::to_string(limit.count()) + " ms";
  }
  if (release_at_ && now >= *release_at_) {
    release_at_.reset();
    placePending();
  }
  if (recovery_.takeEnd(now)) {
    logger_->info("recovery window over: {} session(s) reported by {} worker(s)",
                  sessions_.size() - sessions_.pendingCount(), workers_.size());
    placePending();
  }
}

void SessionRouter::sendHeartbeat(const std::string& worker_id) {
  auto* worker = workers_.find(worker_id);
  if (worker == nullptr || worker->lost) return;
  worker->last_heartbeat_sent = clock_.now();
  toWorkerBody(worker_id, MessageType::kHeartbeat,
               msg::Heartbeat{++worker->sent_seq, worker->last_seq});
  auto held = std::move(worker->held_acks);
  worker->held_acks.clear();
  for (const auto& [session, ack] : held)
    toWorkerBody(worker_id, MessageType::kTranscriptAck, ack.first);
}

void SessionRouter::holdAck(WorkerEntry& worker, const msg::TranscriptAck& ack, uint64_t entries) {
  auto& [held, count] = worker.held_acks[ack.session];
  held = ack;
  count += entries;
  if (count >= kAckEveryEntries) sendAck(worker, ack);
}

void SessionRouter::sendAck(WorkerEntry& worker, const msg::TranscriptAck& ack) {
  worker.held_acks.erase(ack.session);
  toWorkerBody(worker.id, MessageType::kTranscriptAck, ack);
}

void SessionRouter::relocate(const std::string& worker_id, const std::string& name,
                             std::string_view why) {
  const auto* entry = sessions_.find(name);
  if (entry == nullptr || entry->worker != worker_id) return;
  logger_->warn("[session {}] lost by [worker {}] ({}): moving it", name, worker_id, why);
  std::set<std::string> still_held = sessions_.sessionsOn(worker_id);
  still_held.erase(name);
  recoverFrom(worker_id, &still_held);
}

void SessionRouter::sendHeartbeats() {
  // A worker whose own heartbeat the broker acknowledged within the last interval has heard
  // from it since: a second heartbeat would tell it nothing (and would double the broker's
  // sends with many workers).
  const TimePoint recent = clock_.now() - config_.heartbeat;
  std::vector<std::string> ids;
  for (const auto& [id, worker] : workers_.entries()) {
    if (!worker.lost && worker.last_heartbeat_sent <= recent) ids.push_back(id);
  }
  for (const auto& id : ids) sendHeartbeat(id);
}

void SessionRouter::expireRequests(TimePoint now) {
  for (uint64_t id : requests_.expired(now)) {
    auto* request = requests_.find(id);
    if (!request) continue;
    const std::string session = request->session;
    if (request->worker.empty()) {
      failRequest(id, ErrorCode::kUnavailable,
                  "no worker could take session " + session + " before the deadline");
      continue;
    }
    const std::string worker = request->worker;
    switch (request->kind) {
      case RequestKind::kQuery:
        toWorkerBody(worker, MessageType::kCancel, msg::Cancel{id});
        failRequest(id, ErrorCode::kTimeout,
                    "no answer from worker " + worker + " before the deadline");
        break;
      case RequestKind::kTerminate:
        if (auto* entry = sessions_.find(session); entry && entry->terminating) {
          logger_->warn("[session {}] [worker {}] did not confirm terminate; name released",
                        session, worker);
          sessions_.remove(session);
        }
        failRequest(id, ErrorCode::kTimeout,
                    "worker " + worker + " did not confirm; the name was released");
        break;
      case RequestKind::kStart:
      case RequestKind::kRestart:
        failRequest(id, ErrorCode::kTimeout, "worker " + worker + " did not answer in time");
        break;
      case RequestKind::kMove:
        if (auto* entry = sessions_.find(session); entry && entry->moving) {
          entry->moving = false;  // queries held for the move may go to the old copy again
          forwardWaiting(*entry);
        }
        failRequest(id, ErrorCode::kTimeout, "worker " + worker + " did not answer in time");
        break;
    }
  }
}

}  // namespace ccmesh::broker
