// BrokerCore, continued: what happens when workers die or stay silent, and deadlines pass.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

#include "core/broker_core.hpp"

namespace ccmesh::broker {

void BrokerCore::recoverFrom(const std::string& worker_id, const std::set<std::string>* still_held,
                             TimePoint not_before) {
  auto holds = [&](const std::string& name) {
    return still_held != nullptr && still_held->count(name) > 0;
  };
  std::map<std::string, uint64_t> starts;  // session -> start request to carry over
  std::vector<uint64_t> restarts;          // restart requests to answer after re-placement
  std::set<std::string> requeued;          // sessions that got queries back
  for (uint64_t id : requests_.forwardedTo(worker_id)) {
    auto* request = requests_.find(id);
    if (request->kind == RequestKind::kBudget) {
      budgetWorkerRecovered(*request, worker_id, still_held != nullptr);
      continue;
    }
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
          forget(id, "client_gone");  // nobody waits for it: do not run it elsewhere
        } else if (!entry || entry->terminating) {
          failRequest(id, ErrorCode::kCancelled, "session " + request->session + " was terminated");
        } else {
          enqueueWaiting(*request);  // never reached a CLI: safe to send again
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
      case RequestKind::kSet:
      case RequestKind::kContext:
        // The name moves with the options the broker holds: a set not confirmed is not in them.
        failRequest(id, ErrorCode::kUnavailable,
                    "worker " + worker_id + " was lost before it answered; nothing changed");
        break;
      case RequestKind::kBudget:  // confirmed or sent again above
        break;
      case RequestKind::kTerminate:
        // The copy is gone with the worker: the terminate has done its job.
        if (entry && entry->terminating) {
          failWaiting(*entry, ErrorCode::kCancelled, "session " + entry->name + " was terminated");
          removeSession(entry->name, "terminated (its worker was lost)");
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
      removeSession(name, "terminated (its worker was lost)");
      continue;
    }
    unplace(*entry);
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

  // (Those in flight on the dead worker were queued again above.)
  promptedFirst(moved);
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

void BrokerCore::workerLost(const std::string& worker_id, event::LossCause cause,
                            std::string_view why) {
  auto* worker = workers_.find(worker_id);
  if (!worker) return;
  if (!worker->lost()) {  // keeps placement off it while its names move
    worker->lost_why = why;
    worker->lost_cause = cause;
  }
  const uint64_t hosted = sessions_.countOn(worker_id);
  logger_->warn("[worker {}] dead ({}): moving its {} session(s)", worker_id, why, hosted);
  events_.emit(event::WorkerLost{worker_id, cause, std::string(why), hosted});
  const std::string id = worker_id;  // the caller's string may live in the entry
  recoverFrom(id, nullptr);
  workers_.remove(id);
}

void BrokerCore::expire(TimePoint now) {
  checkLiveness(now);
  reapLost();
  expireRequests(now);
  expireCheckouts(now);
}

void BrokerCore::reapLost() {
  // Dropping one worker may find another unreachable; each is dropped once, so this ends.
  while (!to_reap_.empty()) {
    auto ids = std::move(to_reap_);
    to_reap_.clear();
    std::sort(ids.begin(), ids.end());
    for (const auto& id : ids) {
      const auto* worker = workers_.find(id);
      // A worker that registered again since it was marked (which clears the mark) stays.
      if (worker != nullptr && worker->lost()) {
        workerLost(id, worker->lost_cause, std::string(worker->lost_why));
      }
    }
  }
}

void BrokerCore::checkLiveness(TimePoint now) {
  // The worker's lease ran liveness x heartbeat from when it sent the heartbeat last
  // acknowledged, which it sent before the last message the broker received from it; one
  // fence margin later it has surely stopped its sessions.
  const auto limit = workerExpiry(config_);
  // Walking every worker at every turn of the loop cost a fleet of a thousand workers more
  // than relaying its messages did: walk once the longest-silent one may be due.
  if (!silence_due_ || now >= *silence_due_) {
    for (const auto& id : workers_.deadSince(now - limit)) {
      auto* worker = workers_.find(id);
      markLost(*worker, event::LossCause::kSilence,
               "silent for more than " + std::to_string(limit.count()) + " ms");
    }
    const auto oldest = workers_.oldestLastHeard();
    silence_due_ = oldest ? std::optional<TimePoint>(*oldest + limit) : std::nullopt;
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

void BrokerCore::relocate(const std::string& worker_id, const std::string& name,
                          std::string_view why) {
  const auto* entry = sessions_.find(name);
  if (entry == nullptr || entry->worker != worker_id) return;
  logger_->warn("[session {}] lost by [worker {}] ({}): moving it", name, worker_id, why);
  std::set<std::string> still_held = sessions_.sessionsOn(worker_id);
  still_held.erase(name);
  recoverFrom(worker_id, &still_held);
}

void BrokerCore::sendHeartbeats() {
  // A worker whose own heartbeat the broker acknowledged within the last interval has heard
  // from it since: a second heartbeat would tell it nothing (and would double the broker's
  // sends with many workers).
  const TimePoint recent = clock_.now() - config_.heartbeat;
  std::vector<std::string> ids;
  for (const auto& [id, worker] : workers_.entries()) {
    if (!worker.lost() && worker.last_heartbeat_sent <= recent) ids.push_back(id);
  }
  for (const auto& id : ids) sendHeartbeat(id);
}

void BrokerCore::expireRequests(TimePoint now) {
  for (uint64_t id : requests_.expired(now)) {
    auto* request = requests_.find(id);
    if (!request) continue;
    const std::string session = request->session;
    if (request->kind == RequestKind::kBudget) {
      failRequest(id, ErrorCode::kTimeout,
                  fmt::format("worker(s) {} did not confirm the budget of {} in time: this broker "
                              "counts against it, but would lose it if it restarted before they do",
                              fmt::join(request->confirming, ", "), session));
      continue;
    }
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
          removeSession(session, "terminated (its worker did not confirm)");
        }
        failRequest(id, ErrorCode::kTimeout,
                    "worker " + worker + " did not confirm; the name was released");
        break;
      case RequestKind::kStart:
      case RequestKind::kRestart:
      case RequestKind::kSet:
      case RequestKind::kContext:
        failRequest(id, ErrorCode::kTimeout, "worker " + worker + " did not answer in time");
        break;
      case RequestKind::kBudget:  // answered above
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
