#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ccmesh::broker {

// A worker that could take a session, with what placement needs to know about it.
struct PlacementCandidate {
  std::string id;          // worker id
  uint32_t capacity = 0;   // sessions it may host; 0 takes none
  std::size_t hosted = 0;  // sessions placed on it now
};

// Chooses where a session goes: the worker that would be least loaded relative to its
// capacity after taking it, i.e. the smallest (hosted + 1) / capacity among workers with
// room; ties go to the fewest sessions, then the smallest id. Costs O(workers) per pick and
// never looks at sessions, so placing 100k names is cheap.
class PlacementPolicy {
 public:
  explicit PlacementPolicy(std::vector<PlacementCandidate> candidates);

  // Index of the best candidate, or nullopt when every one is full. Pure.
  static std::optional<std::size_t> choose(std::span<const PlacementCandidate> candidates);

  // Picks a worker for one more session and counts it there, so successive picks spread a
  // batch of sessions. Nullopt when every worker is full.
  std::optional<std::string> pick();

 private:
  std::vector<PlacementCandidate> candidates_;  // live workers and their counts so far
};

}  // namespace ccmesh::broker
