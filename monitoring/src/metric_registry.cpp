#include "ccmesh/monitoring/metric_registry.hpp"

#include <prometheus/text_serializer.h>

#include <sstream>

#include "ccmesh/common/version.hpp"

namespace ccmesh::monitoring {

const prometheus::Histogram::BucketBoundaries kQueryBuckets{0.05, 0.1, 0.25, 0.5, 1,   2.5, 5,
                                                            10,   30,  60,   120, 300, 600};
const prometheus::Histogram::BucketBoundaries kShortBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                            0.5,   1,    2.5,   5,    10,  30};

double seconds(Millis value) { return static_cast<double>(value.count()) / 1000.0; }

void catchUp(prometheus::Counter& counter, uint64_t value, uint64_t& seen) {
  if (value > seen) counter.Increment(static_cast<double>(value - seen));
  seen = value;
}

MetricRegistry::MetricRegistry(const std::string& component)
    : registry_(std::make_shared<prometheus::Registry>()) {
  gauge("ccmesh_build_info", "The program's version (always 1)")
      .Add({{"version", kVersion}, {"component", component}})
      .Set(1);
}

prometheus::Family<prometheus::Counter>& MetricRegistry::counter(const std::string& name,
                                                                 const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Gauge>& MetricRegistry::gauge(const std::string& name,
                                                             const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Histogram>& MetricRegistry::histogram(const std::string& name,
                                                                     const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
}

std::string MetricRegistry::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

void ShownGauges::show(const std::vector<std::pair<prometheus::Labels, double>>& values) {
  std::set<prometheus::Labels> now;
  for (const auto& [labels, value] : values) {
    family_.Add(labels).Set(value);
    now.insert(labels);
  }
  for (auto it = shown_.begin(); it != shown_.end();) {
    if (now.count(*it) == 0) {
      family_.Remove(&family_.Add(*it));
      it = shown_.erase(it);
    } else {
      ++it;
    }
  }
  shown_.insert(now.begin(), now.end());
}

}  // namespace ccmesh::monitoring
