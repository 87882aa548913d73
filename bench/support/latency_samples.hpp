#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ccmesh::bench {

// Durations of one repeated operation, kept whole so percentiles are exact.
class LatencySamples {
 public:
  void reserve(std::size_t count) { nanos_.reserve(count); }
  void add(std::chrono::nanoseconds duration);
  // Every sample of `other` appended to these.
  void merge(const LatencySamples& other);

  std::size_t count() const { return nanos_.size(); }
  // The p-th percentile (0 < p <= 100, nearest rank) in microseconds; 0 with no samples.
  double percentileMicros(double p) const;

 private:
  mutable std::vector<int64_t> nanos_;  // the samples, in nanoseconds
  mutable bool sorted_ = true;          // nanos_ is in ascending order
};

}  // namespace ccmesh::bench
