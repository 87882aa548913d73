#include "latency_samples.hpp"

#include <algorithm>
#include <cmath>

namespace ccmesh::bench {

void LatencySamples::add(std::chrono::nanoseconds duration) {
  nanos_.push_back(duration.count());
  sorted_ = false;
}

void LatencySamples::merge(const LatencySamples& other) {
  nanos_.insert(nanos_.end(), other.nanos_.begin(), other.nanos_.end());
  sorted_ = false;
}

double LatencySamples::percentileMicros(double p) const {
  if (nanos_.empty()) return 0;
  if (!sorted_) {
    std::sort(nanos_.begin(), nanos_.end());
    sorted_ = true;
  }
  // Nearest rank: the smallest sample with at least p % of the samples at or below it.
  const double rank = std::ceil(p / 100.0 * static_cast<double>(nanos_.size()));
  const auto index = static_cast<std::size_t>(std::clamp(rank, 1.0, double(nanos_.size())));
  return static_cast<double>(nanos_[index - 1]) / 1000.0;
}

}  // namespace ccmesh::bench
