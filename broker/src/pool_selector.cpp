#include "ccmesh/broker/pool_selector.hpp"

#include <vector>

namespace ccmesh::broker {

PoolSelector::PoolSelector(uint64_t seed) : random_(seed) {}

std::optional<std::size_t> PoolSelector::choose(PoolStrategy strategy,
                                                std::span<const PoolCandidate> candidates,
                                                std::size_t cursor) {
  const std::size_t count = candidates.size();
  if (count == 0) return std::nullopt;
  bool any_placed = false;
  for (const auto& candidate : candidates) any_placed |= candidate.eligible && candidate.placed;
  auto counts = [&](const PoolCandidate& c) { return c.eligible && (c.placed || !any_placed); };

  // Candidates that count, in rotation order starting at the cursor.
  std::vector<std::size_t> order;
  order.reserve(count);
  for (std::size_t step = 0; step < count; ++step) {
    const std::size_t index = (cursor + step) % count;
    if (counts(candidates[index])) order.push_back(index);
  }
  if (order.empty()) return std::nullopt;

  switch (strategy) {
    case PoolStrategy::kRoundRobin:
      return order.front();
    case PoolStrategy::kLeastBusy: {
      std::size_t best = order.front();
      for (std::size_t index : order) {
        if (candidates[index].in_flight < candidates[best].in_flight) best = index;
      }
      return best;
    }
    case PoolStrategy::kRandom: {
      std::uniform_int_distribution<std::size_t> pick(0, order.size() - 1);
      return order[pick(random_)];
    }
  }
  return order.front();
}

}  // namespace ccmesh::broker
