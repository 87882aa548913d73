#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ccmesh::client {

// Spreads session names over several independent ccmesh clusters (each its own broker, or
// its own leader and standbys) by consistent hashing, so every client picks the same
// cluster for a name without asking anyone (docs/SCALING.md "Past one broker"). Each
// cluster owns `points` positions on a 64-bit ring; a name belongs to the cluster owning
// the first position at or after the name's hash. Adding a cluster to N moves about
// 1/(N+1) of the names, all of them to the new cluster; removing one moves only its own.
// The hash is FNV-1a over the bytes with a 64-bit finaliser: the same in every process,
// language and release, since clients of other languages must agree with this one.
class NameRing {
 public:
  static constexpr std::size_t kPointsPerCluster = 160;

  // `clusters`: one entry per cluster (any text naming it: an endpoint list, a name);
  // throws std::invalid_argument when empty or when one appears twice.
  explicit NameRing(std::vector<std::string> clusters, std::size_t points = kPointsPerCluster);

  // The cluster a name belongs to, and its index in the list given.
  const std::string& clusterOf(std::string_view name) const { return clusters_[indexOf(name)]; }
  std::size_t indexOf(std::string_view name) const;

  const std::vector<std::string>& clusters() const { return clusters_; }

  // The ring's hash of `bytes`.
  static uint64_t hash(std::string_view bytes);

 private:
  std::vector<std::string> clusters_;                  // as given
  std::vector<std::pair<uint64_t, uint32_t>> points_;  // position -> cluster index, sorted
};

}  // namespace ccmesh::client
