#pragma once

#include <string>

#include "ccmesh/monitoring/metric_registry.hpp"
#include "ccmesh/worker/worker.hpp"
#include "ccmesh/worker/worker_meter.hpp"

namespace ccmesh::worker {

// A worker's Prometheus metrics (docs/OPERATIONS.md "Monitoring"): counters and histograms
// follow what the worker meters as it happens; gauges are sampled from its sessions when
// scraped. Labels stay bounded: state only; never a session name.
class WorkerMetrics final : public WorkerMeter {
 public:
  WorkerMetrics();

  void onCliSpawned() override;
  void onCliReady(Seconds took) override;
  void onCliCrashed() override;
  void onCliRecycled() override;
  void onLeaseRenewed(Seconds round_trip) override;
  void onLeaseLapsed() override;

  // What the worker says now (on the loop's thread, before each scrape).
  void sample(const Worker::Figures& now);

  // The exposition text (Prometheus text format 0.0.4). Any thread.
  std::string render() const { return registry_.render(); }

 private:
  monitoring::MetricRegistry registry_;  // every family below
  prometheus::Counter& spawns_;
  prometheus::Histogram& spawn_seconds_;
  prometheus::Counter& crashes_;
  prometheus::Counter& recycles_;
  prometheus::Counter& renewals_;
  prometheus::Histogram& round_trip_seconds_;
  prometheus::Counter& lapses_;
  prometheus::Counter& malformed_;
  prometheus::Counter& dropped_;
  prometheus::Counter& reconnects_;
  prometheus::Gauge& registered_;
  prometheus::Gauge& capacity_;
  prometheus::Gauge& max_live_;
  prometheus::Gauge& rss_bytes_;
  prometheus::Gauge& queue_depth_;
  monitoring::ShownGauges sessions_;       // ccmesh_worker_hosted_sessions{state}
  monitoring::ShownGauges cli_processes_;  // ccmesh_worker_cli_processes{state}
  uint64_t malformed_seen_ = 0;            // malformed broker messages, last sampled
  uint64_t dropped_seen_ = 0;              // dropped link messages, last sampled
  uint64_t reconnects_seen_ = 0;           // reconnects, last sampled
};

}  // namespace ccmesh::worker
