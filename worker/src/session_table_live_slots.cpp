// SessionTable: its live slots. The live budget (which sessions may have a CLI process), the
// paced line of sessions waiting to spawn, the set of awake sessions, and the `load` reports
// that tell the broker how many CLIs are live.
#include <algorithm>

#include "ccmesh/common/codec.hpp"
#include "session_table.hpp"

namespace ccmesh::worker {

bool SessionTable::acquireLiveSlot(Session& session) {
  wakeUp(session);
  const uint64_t serial = session.serial();
  if (spawns_in_round_ >= kSpawnsPerRound || !spawn_line_.empty() || !prompted_line_.empty()) {
    // One that needs its CLI for prompts it holds (woken for its queue, or respawning with
    // prompts queued) goes ahead of the ones that only start.
    enterSpawnLine(serial, session.queueDepth() > 0);
    return false;
  }
  if (!budget_.acquire(serial)) return false;
  ++spawns_in_round_;
  return true;
}

bool SessionTable::waitsForSpawnTurn(const Session& session) const {
  return in_spawn_line_.count(session.serial()) != 0;
}

bool SessionTable::waitsForSlot(const Session& session) const {
  return waitsForSpawnTurn(session) || budget_.waits(session.serial());
}

void SessionTable::enterSpawnLine(uint64_t serial, bool prompted) {
  auto [entry, joined] = in_spawn_line_.try_emplace(serial, false);
  if (prompted && !entry->second) {
    entry->second = true;
    prompted_line_.push_back(serial);  // an entry of its in spawn_line_ is skipped then
  } else if (joined) {
    spawn_line_.push_back(serial);
  }
}

void SessionTable::spawnWaiting() {
  spawns_in_round_ = 0;
  serveSpawnLine(prompted_line_, true);
  serveSpawnLine(spawn_line_, false);
}

void SessionTable::serveSpawnLine(std::deque<uint64_t>& line, bool prompted) {
  while (!line.empty() && spawns_in_round_ < kSpawnsPerRound) {
    const uint64_t serial = line.front();
    line.pop_front();
    auto entry = in_spawn_line_.find(serial);
    // It left the line meanwhile (and, in the prompted line, may have come back without
    // prompts: then it waits in the plain line).
    if (entry == in_spawn_line_.end() || (prompted && !entry->second)) continue;
    in_spawn_line_.erase(entry);
    Session* session = holder(serial);
    if (session == nullptr) continue;        // forgotten meanwhile
    if (!budget_.acquire(serial)) continue;  // now waits for a live slot (balanceLive)
    ++spawns_in_round_;
    if (!session->grantSlot()) budget_.release(serial);  // no longer needs a CLI
  }
}

void SessionTable::onLiveSlotReleased(Session& session) {
  in_spawn_line_.erase(session.serial());
  budget_.release(session.serial());
}

msg::Load SessionTable::load() const {
  const auto live = static_cast<uint32_t>(budget_.live());
  const auto names = static_cast<uint32_t>(sessions_.size());
  return msg::Load{budget_.maxLive(), live, names > live ? names - live : 0};
}

void SessionTable::track(Session& session) {
  holders_[session.serial()] = &session;
  wakeUp(session);
}

Session* SessionTable::holder(uint64_t serial) const {
  auto it = holders_.find(serial);
  return it == holders_.end() ? nullptr : it->second;
}

void SessionTable::forget(Session* session) {
  awake_.erase(session);
  holders_.erase(session->serial());
  in_spawn_line_.erase(session->serial());
  budget_.release(session->serial());
  auto it = sessions_.find(session->name());
  if (it != sessions_.end() && it->second.get() == session) {
    sessions_.erase(it);
    return;
  }
  std::erase_if(retired_, [session](const auto& retired) { return retired.get() == session; });
}

void SessionTable::balanceLive() {
  if (budget_.waiting() == 0) return;
  // Free slots first go to the sessions that waited longest.
  for (auto admitted = budget_.admit(); !admitted.empty(); admitted = budget_.admit()) {
    for (uint64_t serial : admitted) {
      Session* session = holder(serial);
      if (session != nullptr) wakeUp(*session);
      if (session == nullptr || !session->grantSlot()) budget_.release(serial);
    }
  }
  const std::size_t waiting = budget_.waiting();
  if (waiting == 0) return;
  // Then make room: one CLI stopping per waiting session, least recently used first.
  std::size_t freeing = 0;
  std::vector<IdleHolder> idle;
  for (uint64_t serial : budget_.liveHolders()) {
    Session* session = holder(serial);
    if (session == nullptr) continue;
    const SessionState state = session->state();
    if (state == SessionState::kHibernating || state == SessionState::kStopping) {
      ++freeing;
    } else if (session->evictable()) {
      idle.push_back({serial, session->lastUsed()});
    }
  }
  while (freeing < waiting && !idle.empty()) {
    const std::size_t pick = *LiveBudget::leastRecentlyUsed(idle);
    Session* victim = holder(idle[pick].holder);
    idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(pick));
    victim->hibernate("making room: " + std::to_string(waiting) + " session(s) wait for one of " +
                      std::to_string(budget_.maxLive()) + " live slots");
    ++freeing;
  }
}

void SessionTable::pruneDormant() {
  std::erase_if(awake_, [](const Session* session) { return session->dormant(); });
}

void SessionTable::reportLoad(TimePoint now) {
  const msg::Load current = load();
  if (load_sent_ && load_sent_->live == current.live &&
      load_sent_->hibernated == current.hibernated) {
    load_due_ = false;
    return;
  }
  if (load_sent_ && now < load_sent_at_ + kLoadInterval) {
    load_due_ = true;  // nextDeadline() wakes the loop for it
    return;
  }
  outbox_(MessageType::kLoad, encodeBody(current));
  load_sent_ = current;
  load_sent_at_ = now;
  load_due_ = false;
}

}  // namespace ccmesh::worker
