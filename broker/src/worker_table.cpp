#include "ccmesh/broker/worker_table.hpp"

namespace ccmesh::broker {

std::pair<WorkerEntry*, bool> WorkerTable::upsert(const std::string& id,
                                                  const std::string& routing_id) {
  auto [it, inserted] = entries_.try_emplace(id);
  auto& entry = it->second;
  entry.id = id;
  if (!inserted && entry.routing_id != routing_id) by_routing_id_.erase(entry.routing_id);
  entry.routing_id = routing_id;
  entry.lost_why.clear();
  by_routing_id_[routing_id] = id;
  return {&entry, inserted};
}

void WorkerTable::applyLoad(WorkerEntry& entry, const msg::Load& load) {
  entry.max_live = load.max_live;
  entry.live = load.live;
  entry.hibernated = load.hibernated;
}

bool WorkerTable::remove(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  auto rid = by_routing_id_.find(it->second.routing_id);
  if (rid != by_routing_id_.end() && rid->second == id) by_routing_id_.erase(rid);
  entries_.erase(it);
  return true;
}

WorkerEntry* WorkerTable::find(const std::string& id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

const WorkerEntry* WorkerTable::find(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

WorkerEntry* WorkerTable::findByRoutingId(const std::string& routing_id) {
  auto it = by_routing_id_.find(routing_id);
  return it == by_routing_id_.end() ? nullptr : find(it->second);
}

const WorkerEntry* WorkerTable::findByRoutingId(const std::string& routing_id) const {
  auto it = by_routing_id_.find(routing_id);
  return it == by_routing_id_.end() ? nullptr : find(it->second);
}

std::vector<std::string> WorkerTable::deadSince(TimePoint cutoff) const {
  std::vector<std::string> dead;
  for (const auto& [id, entry] : entries_) {
    if (entry.lost() || entry.last_heard < cutoff) dead.push_back(id);
  }
  return dead;
}

std::optional<TimePoint> WorkerTable::oldestLastHeard() const {
  std::optional<TimePoint> oldest;
  for (const auto& [id, entry] : entries_) {
    if (entry.lost()) continue;  // reaped in this turn of the loop
    if (!oldest || entry.last_heard < *oldest) oldest = entry.last_heard;
  }
  return oldest;
}

}  // namespace ccmesh::broker
