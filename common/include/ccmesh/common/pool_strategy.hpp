#pragma once

#include <optional>
#include <string_view>

namespace ccmesh {

// How a pool picks the member that runs a pool query. Wire names (poolStrategyName) are
// part of the protocol and of the sessions file.
enum class PoolStrategy {
  kRoundRobin,  // "round_robin": strict rotation over the usable members (the default)
  kLeastBusy,   // "least_busy": fewest queries running + queued, ties broken by rotation
  kRandom,      // "random": uniformly among the usable members
};

std::string_view poolStrategyName(PoolStrategy strategy);

// The strategy of a wire name; an empty name is the default, round_robin.
std::optional<PoolStrategy> parsePoolStrategy(std::string_view name);

}  // namespace ccmesh
