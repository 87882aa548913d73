#include "ccmesh/broker/session_registry.hpp"

namespace ccmesh::broker {

bool SessionRegistry::add(const std::string& name, const SessionOptions& options,
                          const std::string& creator) {
  auto [it, inserted] = entries_.try_emplace(name);
  if (!inserted) return false;
  it->second.name = name;
  it->second.options = options;
  it->second.creator = creator;
  if (!creator.empty()) ++created_by_[creator];
  pending_.insert(name);
  return true;
}

std::size_t SessionRegistry::createdBy(const std::string& creator) const {
  auto it = created_by_.find(creator);
  return it == created_by_.end() ? 0 : it->second;
}

bool SessionRegistry::remove(const std::string& name) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return false;
  detach(it->second);
  pending_.erase(name);
  if (const std::string& creator = it->second.creator; !creator.empty()) {
    if (auto count = created_by_.find(creator);
        count != created_by_.end() && --count->second == 0) {
      created_by_.erase(count);
    }
  }
  entries_.erase(it);
  if (on_remove_) on_remove_(name);
  return true;
}

SessionEntry* SessionRegistry::find(std::string_view name) {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

const SessionEntry* SessionRegistry::find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

uint64_t SessionRegistry::place(const std::string& name, const std::string& worker) {
  auto& entry = entries_.at(name);
  bind(entry, worker, entry.generation + 1);
  entry.state = session_state::kStarting;
  entry.pid = 0;
  entry.restarts = 0;
  entry.last_error.clear();
  return entry.generation;
}

SessionEntry& SessionRegistry::adopt(const std::string& name, const SessionOptions& options,
                                     const std::string& worker, uint64_t generation) {
  auto [it, inserted] = entries_.try_emplace(name);
  auto& entry = it->second;
  if (inserted) entry.name = name;
  entry.options = options;
  bind(entry, worker, generation);
  return entry;
}

void SessionRegistry::unplace(const std::string& name) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return;
  auto& entry = it->second;
  detach(entry);
  if (!entry.worker.empty()) entry.last_worker = entry.worker;
  entry.worker.clear();
  entry.moving = false;
  entry.state = session_state::kPending;
  entry.pid = 0;
  pending_.insert(name);
}

std::vector<std::string> SessionRegistry::releaseWorker(const std::string& worker) {
  auto it = by_worker_.find(worker);
  if (it == by_worker_.end()) return {};
  std::vector<std::string> names(it->second.begin(), it->second.end());
  for (const auto& name : names) unplace(name);
  return names;
}

void SessionRegistry::applyUpdate(SessionEntry& entry, const msg::SessionUpdate& update,
                                  TimePoint received_at) {
  entry.recycles = update.recycles;
  entry.rss_kb = update.rss_kb;
  if (received_at != TimePoint{}) entry.last_used_at = received_at - Millis(update.last_used_ms);
  entry.state = update.state;
  entry.pid = update.pid;
  entry.session_id = update.session_id;
  entry.restarts = update.restarts;
  entry.turns = update.turns;
  entry.last_error = update.last_error;
  entry.cut = update.cut;
}

const std::set<std::string>& SessionRegistry::sessionsOn(const std::string& worker) const {
  static const std::set<std::string> kNone;
  auto it = by_worker_.find(worker);
  return it == by_worker_.end() ? kNone : it->second;
}

std::size_t SessionRegistry::countOn(const std::string& worker) const {
  auto it = by_worker_.find(worker);
  return it == by_worker_.end() ? 0 : it->second.size();
}

void SessionRegistry::bind(SessionEntry& entry, const std::string& worker, uint64_t generation) {
  detach(entry);
  pending_.erase(entry.name);
  entry.worker = worker;
  entry.generation = generation;
  by_worker_[worker].insert(entry.name);
}

void SessionRegistry::detach(SessionEntry& entry) {
  if (entry.worker.empty()) return;
  auto it = by_worker_.find(entry.worker);
  if (it == by_worker_.end()) return;
  it->second.erase(entry.name);
  if (it->second.empty()) by_worker_.erase(it);
}

}  // namespace ccmesh::broker
