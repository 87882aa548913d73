#include "ccmesh/broker/pool_registry.hpp"

#include <algorithm>

namespace ccmesh::broker {

PoolEntry* PoolRegistry::add(const std::string& name, PoolStrategy strategy, bool owned,
                             const SessionOptions& options) {
  auto [it, inserted] = pools_.try_emplace(name);
  if (!inserted) return nullptr;
  auto& pool = it->second;
  pool.name = name;
  pool.strategy = strategy;
  pool.owned = owned;
  pool.options = options;
  return &pool;
}

bool PoolRegistry::remove(const std::string& name) {
  auto it = pools_.find(name);
  if (it == pools_.end()) return false;
  auto& pool = it->second;
  for (auto& member : pool.members) {
    checkIn(pool, member);
    pool_of_.erase(member.name);
  }
  while (takeWaiting(pool)) {
  }
  pools_.erase(it);
  return true;
}

PoolEntry* PoolRegistry::find(const std::string& name) {
  auto it = pools_.find(name);
  return it == pools_.end() ? nullptr : &it->second;
}

const PoolEntry* PoolRegistry::find(const std::string& name) const {
  auto it = pools_.find(name);
  return it == pools_.end() ? nullptr : &it->second;
}

bool PoolRegistry::addMember(PoolEntry& pool, const std::string& member,
                             std::optional<std::size_t> position) {
  if (!pool_of_.try_emplace(member, pool.name).second) return false;
  const std::size_t at = std::min(position.value_or(pool.members.size()), pool.members.size());
  pool.members.insert(pool.members.begin() + static_cast<std::ptrdiff_t>(at),
                      PoolMember{member, 0, 0, {}, {}, {}});
  return true;
}

bool PoolRegistry::removeMember(PoolEntry& pool, const std::string& member) {
  auto it = std::find_if(pool.members.begin(), pool.members.end(),
                         [&](const PoolMember& m) { return m.name == member; });
  if (it == pool.members.end()) return false;
  checkIn(pool, *it);
  pool_of_.erase(member);
  const auto index = static_cast<std::size_t>(it - pool.members.begin());
  pool.members.erase(it);
  if (index < pool.cursor) --pool.cursor;  // the rotation goes on from the same member
  if (pool.cursor >= pool.members.size()) pool.cursor = 0;
  return true;
}

const std::string* PoolRegistry::poolOf(const std::string& member) const {
  auto it = pool_of_.find(member);
  return it == pool_of_.end() ? nullptr : &it->second;
}

PoolMember* PoolRegistry::member(PoolEntry& pool, const std::string& name) {
  for (auto& member : pool.members) {
    if (member.name == name) return &member;
  }
  return nullptr;
}

uint64_t PoolRegistry::checkOut(PoolEntry& pool, PoolMember& member, TimePoint lease_end,
                                const std::string& holder, const std::string& holder_name) {
  checkIn(pool, member);
  member.lease_id = next_lease_id_++;
  member.lease_end = lease_end;
  member.holder = holder;
  member.holder_name = holder_name;
  leases_.emplace(lease_end, pool.name, member.name);
  return member.lease_id;
}

bool PoolRegistry::checkIn(PoolEntry& pool, PoolMember& member) {
  if (member.lease_id == 0) return false;
  leases_.erase(LeaseKey{member.lease_end, pool.name, member.name});
  member.lease_id = 0;
  member.lease_end = {};
  member.holder.clear();
  member.holder_name.clear();
  return true;
}

std::vector<std::pair<std::string, std::string>> PoolRegistry::reclaimLapsed(TimePoint now) {
  std::vector<std::pair<std::string, std::string>> reclaimed;
  while (!leases_.empty() && std::get<0>(*leases_.begin()) <= now) {
    const auto [end, pool_name, member_name] = *leases_.begin();
    leases_.erase(leases_.begin());
    auto* pool = find(pool_name);
    auto* lapsed = pool ? member(*pool, member_name) : nullptr;
    if (lapsed == nullptr) continue;
    lapsed->lease_id = 0;
    lapsed->lease_end = {};
    lapsed->holder.clear();
    lapsed->holder_name.clear();
    ++pool->reclaims;
    reclaimed.emplace_back(pool_name, member_name);
  }
  return reclaimed;
}

void PoolRegistry::addWaiting(PoolEntry& pool, WaitingCheckout checkout) {
  waiting_.emplace(checkout.deadline, pool.name, checkout.client, checkout.client_id);
  ++waiting_per_client_[checkout.client];
  pool.waiting.push_back(std::move(checkout));
}

std::optional<WaitingCheckout> PoolRegistry::takeWaiting(PoolEntry& pool) {
  if (pool.waiting.empty()) return std::nullopt;
  WaitingCheckout checkout = std::move(pool.waiting.front());
  pool.waiting.pop_front();
  auto key =
      waiting_.find(WaitKey{checkout.deadline, pool.name, checkout.client, checkout.client_id});
  if (key != waiting_.end()) waiting_.erase(key);
  uncount(checkout.client);
  return checkout;
}

std::vector<std::pair<std::string, WaitingCheckout>> PoolRegistry::takeExpiredWaiting(
    TimePoint now) {
  std::vector<std::pair<std::string, WaitingCheckout>> expired;
  while (!waiting_.empty() && std::get<0>(*waiting_.begin()) <= now) {
    const auto [deadline, pool_name, client, client_id] = *waiting_.begin();
    waiting_.erase(waiting_.begin());
    auto* pool = find(pool_name);
    if (pool == nullptr) continue;
    auto& queue = pool->waiting;
    auto it = std::find_if(queue.begin(), queue.end(), [&](const WaitingCheckout& w) {
      return w.deadline == deadline && w.client == client && w.client_id == client_id;
    });
    if (it == queue.end()) continue;
    uncount(it->client);
    expired.emplace_back(pool_name, std::move(*it));
    queue.erase(it);
  }
  return expired;
}

std::optional<std::string> PoolRegistry::cancelWaiting(const std::string& client,
                                                       uint64_t client_id) {
  if (waitingOf(client) == 0) return std::nullopt;
  for (auto& [name, pool] : pools_) {
    auto& queue = pool.waiting;
    auto it = std::find_if(queue.begin(), queue.end(), [&](const WaitingCheckout& w) {
      return w.client == client && w.client_id == client_id;
    });
    if (it == queue.end()) continue;
    auto key = waiting_.find(WaitKey{it->deadline, name, client, client_id});
    if (key != waiting_.end()) waiting_.erase(key);
    uncount(client);
    queue.erase(it);
    return name;
  }
  return std::nullopt;
}

std::size_t PoolRegistry::waitingOf(const std::string& client) const {
  auto it = waiting_per_client_.find(client);
  return it == waiting_per_client_.end() ? 0 : it->second;
}

bool PoolRegistry::isWaiting(const std::string& client, uint64_t client_id) const {
  if (waitingOf(client) == 0) return false;
  for (const auto& [name, pool] : pools_) {
    for (const auto& checkout : pool.waiting) {
      if (checkout.client == client && checkout.client_id == client_id) return true;
    }
  }
  return false;
}

void PoolRegistry::uncount(const std::string& client) {
  auto it = waiting_per_client_.find(client);
  if (it == waiting_per_client_.end()) return;
  if (--it->second == 0) waiting_per_client_.erase(it);
}

std::optional<TimePoint> PoolRegistry::nextDeadline() const {
  std::optional<TimePoint> next;
  if (!leases_.empty()) next = std::get<0>(*leases_.begin());
  if (!waiting_.empty()) {
    const auto waiting = std::get<0>(*waiting_.begin());
    next = next ? std::min(*next, waiting) : waiting;
  }
  return next;
}

}  // namespace ccmesh::broker
