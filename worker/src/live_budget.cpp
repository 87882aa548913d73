#include "ccmesh/worker/live_budget.hpp"

#include <algorithm>

namespace ccmesh::worker {

bool LiveBudget::acquire(uint64_t holder) {
  if (holds(holder)) return true;
  if (waiting_.empty() && hasRoom()) {
    live_.insert(holder);
    return true;
  }
  if (std::find(waiting_.begin(), waiting_.end(), holder) == waiting_.end()) {
    waiting_.push_back(holder);
  }
  return false;
}

bool LiveBudget::waits(uint64_t holder) const {
  return std::find(waiting_.begin(), waiting_.end(), holder) != waiting_.end();
}

void LiveBudget::release(uint64_t holder) {
  if (live_.erase(holder) != 0) return;
  auto it = std::find(waiting_.begin(), waiting_.end(), holder);
  if (it != waiting_.end()) waiting_.erase(it);
}

std::vector<uint64_t> LiveBudget::admit() {
  std::vector<uint64_t> admitted;
  while (!waiting_.empty() && hasRoom()) {
    const uint64_t holder = waiting_.front();
    waiting_.pop_front();
    live_.insert(holder);
    admitted.push_back(holder);
  }
  return admitted;
}

std::optional<std::size_t> LiveBudget::leastRecentlyUsed(std::span<const IdleHolder> idle) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < idle.size(); ++i) {
    if (!best) {
      best = i;
      continue;
    }
    const IdleHolder& a = idle[i];
    const IdleHolder& b = idle[*best];
    if (a.last_used < b.last_used || (a.last_used == b.last_used && a.holder < b.holder)) best = i;
  }
  return best;
}

}  // namespace ccmesh::worker
