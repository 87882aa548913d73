#include "ccmesh/client/name_ring.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

namespace ccmesh::client {

NameRing::NameRing(std::vector<std::string> clusters, std::size_t points)
    : clusters_(std::move(clusters)) {
  if (clusters_.empty()) throw std::invalid_argument("a name ring needs at least one cluster");
  std::unordered_set<std::string_view> seen;
  for (const auto& cluster : clusters_) {
    if (!seen.insert(cluster).second) {
      throw std::invalid_argument("cluster '" + cluster + "' is listed twice");
    }
  }
  points = std::max<std::size_t>(points, 1);
  points_.reserve(clusters_.size() * points);
  for (uint32_t c = 0; c < clusters_.size(); ++c) {
    for (std::size_t p = 0; p < points; ++p) {
      points_.emplace_back(hash(clusters_[c] + "#" + std::to_string(p)), c);
    }
  }
  std::sort(points_.begin(), points_.end());
}

std::size_t NameRing::indexOf(std::string_view name) const {
  const uint64_t position = hash(name);
  auto it = std::lower_bound(points_.begin(), points_.end(), position,
                             [](const auto& point, uint64_t value) { return point.first < value; });
  if (it == points_.end()) it = points_.begin();  // past the last position: round the ring
  return it->second;
}

uint64_t NameRing::hash(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
  for (unsigned char byte : bytes) {
    h ^= byte;
    h *= 0x100000001b3ull;  // FNV-1a 64 prime
  }
  // The finaliser of MurmurHash3 (fmix64): FNV alone leaves similar names close together.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace ccmesh::client
