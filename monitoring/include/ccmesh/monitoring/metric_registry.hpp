#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::monitoring {

// Query durations: a turn of a coding agent takes seconds to minutes.
extern const prometheus::Histogram::BucketBoundaries kQueryBuckets;
// Spawns, first deltas, failovers, round trips: milliseconds to seconds.
extern const prometheus::Histogram::BucketBoundaries kShortBuckets;

// The content type of the exposition text.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// `value` in seconds, the base unit of every ccmesh duration metric.
double seconds(Millis value);

// Adds `value - seen` to a counter whose source is a total kept elsewhere (sampled when
// scraped), and remembers `value` as seen.
void catchUp(prometheus::Counter& counter, uint64_t value, uint64_t& seen);

// The metric families of one process (docs/OPERATIONS.md "Monitoring") and their
// exposition text. Families are registered once, at construction of their owner; their
// series may be updated from any thread.
class MetricRegistry {
 public:
  // Registers `ccmesh_build_info{version, component}` = 1.
  explicit MetricRegistry(const std::string& component);

  prometheus::Family<prometheus::Counter>& counter(const std::string& name,
                                                   const std::string& help);
  prometheus::Family<prometheus::Gauge>& gauge(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Histogram>& histogram(const std::string& name,
                                                       const std::string& help);

  // The exposition text (Prometheus text format 0.0.4). Any thread.
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;  // every family
};

// A gauge family whose label sets come and go with what it shows (workers, pools, states):
// each sample sets the label sets it has and removes the ones it no longer has.
class ShownGauges {
 public:
  ShownGauges(MetricRegistry& registry, const std::string& name, const std::string& help)
      : family_(registry.gauge(name, help)) {}

  void show(const std::vector<std::pair<prometheus::Labels, double>>& values);

 private:
  prometheus::Family<prometheus::Gauge>& family_;  // the gauges
  std::set<prometheus::Labels> shown_;             // label sets in the family now
};

}  // namespace ccmesh::monitoring
