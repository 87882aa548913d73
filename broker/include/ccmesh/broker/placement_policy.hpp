#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ccmesh::broker {

// A worker that could take a session, with what placement needs to know about it.
struct PlacementCandidate {
  std::string id;                                              // worker id
  uint32_t capacity = 0;                                       // sessions it may host; 0 takes none
  std::size_t hosted = 0;                                      // sessions placed on it now
  const std::map<std::string, std::string>* labels = nullptr;  // its labels; null: none

  uint32_t max_live = 0;  // CLI processes it runs at once (0: no limit besides capacity)
  uint32_t live = 0;      // CLI processes it runs now
};

// Labels a session requires of its worker (SessionOptions::require): label -> value.
using LabelRequirements = std::map<std::string, std::string>;

// True if a worker with `labels` (null: none) has every label `require` names, with the
// value it names.
bool meetsRequirements(const std::map<std::string, std::string>* labels,
                       const LabelRequirements& require);

// Chooses where a session goes: among the workers with room that carry the labels the
// session requires, the one that would be least loaded relative to its capacity after
// taking it, i.e. the smallest (hosted + 1) / capacity; ties go to the fewest sessions, then
// the smallest id. Among equal name loads, a worker with spare live slots (max_live) wins,
// then the one with the smaller share of its live slots in use, so a session's CLI starts
// without hibernating another. Costs O(workers) per pick and
// never looks at sessions, so placing 100k names is cheap.
class PlacementPolicy {
 public:
  explicit PlacementPolicy(std::vector<PlacementCandidate> candidates);

  // Index of the best candidate, or nullopt when every one is full. Pure.
  static std::optional<std::size_t> choose(std::span<const PlacementCandidate> candidates,
                                           const LabelRequirements& require = {});

  // Picks a worker for one more session and counts it there, so successive picks spread a
  // batch of sessions. Nullopt when every worker that meets `require` is full.
  std::optional<std::string> pick(const LabelRequirements& require = {});

 private:
  std::vector<PlacementCandidate> candidates_;  // live workers and their counts so far
};

}  // namespace ccmesh::broker
