#include "ccmesh/broker/placement_policy.hpp"

#include <utility>

namespace ccmesh::broker {
namespace {

// True when `a` is a better home than `b` for one more session.
bool better(const PlacementCandidate& a, const PlacementCandidate& b) {
  // Compare (a.hosted+1)/a.capacity with (b.hosted+1)/b.capacity without division; with
  // hosted < capacity <= 2^32-1 both products fit in 64 bits.
  const uint64_t load_a = (uint64_t{a.hosted} + 1) * b.capacity;
  const uint64_t load_b = (uint64_t{b.hosted} + 1) * a.capacity;
  if (load_a != load_b) return load_a < load_b;
  const bool spare_a = a.max_live == 0 || a.live < a.max_live;
  const bool spare_b = b.max_live == 0 || b.live < b.max_live;
  if (spare_a != spare_b) return spare_a;
  if (a.max_live != 0 && b.max_live != 0) {
    const uint64_t live_a = uint64_t{a.live} * b.max_live;
    const uint64_t live_b = uint64_t{b.live} * a.max_live;
    if (live_a != live_b) return live_a < live_b;
  }
  if (a.hosted != b.hosted) return a.hosted < b.hosted;
  return a.id < b.id;
}

}  // namespace

bool meetsRequirements(const std::map<std::string, std::string>* labels,
                       const LabelRequirements& require) {
  for (const auto& [label, wanted] : require) {
    if (labels == nullptr) return false;
    auto it = labels->find(label);
    if (it == labels->end() || it->second != wanted) return false;
  }
  return true;
}

PlacementPolicy::PlacementPolicy(std::vector<PlacementCandidate> candidates)
    : candidates_(std::move(candidates)) {}

std::optional<std::size_t> PlacementPolicy::choose(std::span<const PlacementCandidate> candidates,
                                                   const LabelRequirements& require) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& candidate = candidates[i];
    if (candidate.hosted >= candidate.capacity) continue;  // full (or capacity 0)
    if (!meetsRequirements(candidate.labels, require)) continue;
    if (!best || better(candidate, candidates[*best])) best = i;
  }
  return best;
}

std::optional<std::string> PlacementPolicy::pick(const LabelRequirements& require) {
  auto index = choose(candidates_, require);
  if (!index) return std::nullopt;
  auto& chosen = candidates_[*index];
  ++chosen.hosted;
  return chosen.id;
}

}  // namespace ccmesh::broker
