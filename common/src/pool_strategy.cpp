#include "ccmesh/common/pool_strategy.hpp"

#include <array>
#include <utility>

namespace ccmesh {
namespace {

constexpr std::array<std::pair<PoolStrategy, std::string_view>, 3> kNames{{
    {PoolStrategy::kRoundRobin, "round_robin"},
    {PoolStrategy::kLeastBusy, "least_busy"},
    {PoolStrategy::kRandom, "random"},
}};

}  // namespace

std::string_view poolStrategyName(PoolStrategy strategy) {
  for (const auto& [s, name] : kNames) {
    if (s == strategy) return name;
  }
  return "round_robin";
}

std::optional<PoolStrategy> parsePoolStrategy(std::string_view name) {
  if (name.empty()) return PoolStrategy::kRoundRobin;
  for (const auto& [s, n] : kNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

}  // namespace ccmesh
