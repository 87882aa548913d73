#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>

#include "ccmesh/common/pool_strategy.hpp"

namespace ccmesh::broker {

// One member of a pool, as a pick sees it; candidates come in rotation order.
struct PoolCandidate {
  bool eligible = false;   // may take this request: usable, not checked out, not refused
  bool placed = false;     // hosted by a worker now (preferred over members waiting for one)
  uint32_t in_flight = 0;  // its queries running + queued, from every client
};

// Picks the member of a pool that takes a pool query or a checkout. Only eligible members
// are picked; when some eligible member is placed on a worker, members still waiting for a
// worker are passed over, so a pool keeps answering while a dead worker's members move.
// `cursor` is the rotation position: the caller stores chosen + 1 there after each pick.
//
// round_robin: the first candidate at or after the cursor (wrapping) — strict rotation.
// least_busy: the fewest in_flight; ties go to the first at or after the cursor.
// random: uniformly among the candidates.
class PoolSelector {
 public:
  // `seed` fixes the random strategy's sequence (tests); the default is random.
  explicit PoolSelector(uint64_t seed = std::random_device{}());

  // The index of the chosen candidate, or nullopt when none is eligible. O(candidates).
  std::optional<std::size_t> choose(PoolStrategy strategy,
                                    std::span<const PoolCandidate> candidates, std::size_t cursor);

 private:
  std::mt19937_64 random_;  // source of the random strategy's picks
};

}  // namespace ccmesh::broker
