#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/broker/broker_stats.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/monitoring/metric_registry.hpp"

namespace ccmesh::broker {

// The broker's Prometheus metrics (docs/OPERATIONS.md "Monitoring"). Counters and histograms
// follow its events as they happen; gauges, and the counters only the tables keep, are
// sampled from the broker's state when scraped. Labels stay bounded: worker id, pool, model,
// outcome, state, cause; never a session name.
class BrokerMetrics final : public BrokerObserver {
 public:
  BrokerMetrics();
  ~BrokerMetrics() override;

  void onEvent(const BrokerEvent& event) override;

  // What the tables say now (on the loop's thread, before each scrape).
  struct Sample {
    msg::StatusResult status;                // workers, sessions, counters
    std::map<std::string, uint64_t> states;  // sessions per state
    std::vector<msg::PoolInfo> pools;        // every pool
    BrokerStats stats;                       // counters of the broker itself
    std::size_t watchers = 0;                // `watch` clients
  };
  void sample(const Sample& now);

  // The exposition text (Prometheus text format 0.0.4). Any thread.
  std::string render() const;

 private:
  monitoring::MetricRegistry registry_;  // every family below
  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Family<prometheus::Counter>& queries_;
  prometheus::Family<prometheus::Counter>& pool_queries_;
  prometheus::Family<prometheus::Histogram>& query_seconds_;
  prometheus::Family<prometheus::Histogram>& first_delta_seconds_;
  prometheus::Family<prometheus::Counter>& cost_usd_;
  prometheus::Family<prometheus::Counter>& tokens_;
  prometheus::Family<prometheus::Counter>& workers_joined_;
  prometheus::Family<prometheus::Counter>& workers_lost_;
  prometheus::Family<prometheus::Counter>& moved_;
  prometheus::Family<prometheus::Histogram>& failover_seconds_;
  prometheus::Family<prometheus::Counter>& restarts_;
  prometheus::Family<prometheus::Counter>& crashes_;
  prometheus::Family<prometheus::Counter>& failed_;
  prometheus::Family<prometheus::Counter>& fenced_;
  prometheus::Family<prometheus::Counter>& refused_;
  prometheus::Family<prometheus::Counter>& checkouts_;
  prometheus::Family<prometheus::Counter>& checkins_;
  prometheus::Family<prometheus::Counter>& reclaims_;
  prometheus::Family<prometheus::Counter>& exhausted_;
  prometheus::Family<prometheus::Counter>& transcript_evictions_;
  prometheus::Family<prometheus::Counter>& transcript_write_errors_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Gauge>& requests_in_flight_;
  prometheus::Family<prometheus::Gauge>& workers_connected_;
  prometheus::Family<prometheus::Gauge>& transcript_bytes_;
  prometheus::Family<prometheus::Gauge>& watchers_;
  monitoring::ShownGauges sessions_;          // ccmesh_sessions{state}
  monitoring::ShownGauges cli_processes_;     // ccmesh_cli_processes{worker,state}
  monitoring::ShownGauges worker_capacity_;   // ccmesh_worker_capacity{worker}
  monitoring::ShownGauges worker_sessions_;   // ccmesh_worker_sessions{worker}
  monitoring::ShownGauges heartbeat_age_;     // ccmesh_worker_heartbeat_age_seconds{worker}
  monitoring::ShownGauges pool_members_;      // ccmesh_pool_members{pool}
  monitoring::ShownGauges pool_checked_out_;  // ccmesh_pool_checked_out{pool}

  std::map<std::string, TimePoint> worker_lost_at_;  // lost worker -> when it was lost
  std::map<std::string, TimePoint> failing_over_;    // moved session -> its worker's loss
  // ccmesh_broker_events_total per event type, by the index of event::Body: one Add (a
  // lookup under the family's lock) per type, not per event.
  std::vector<prometheus::Counter*> events_by_type_;
  // The series every answered query touches, looked up once (the family's lookup, under its
  // lock, cost more than the increment).
  prometheus::Counter* queries_ok_ = nullptr;
  prometheus::Histogram* query_seconds_all_ = nullptr;
  prometheus::Histogram* first_delta_seconds_all_ = nullptr;
  std::map<std::string, uint64_t> exhausted_seen_;  // pool -> its `exhausted` last sampled
  uint64_t evictions_seen_ = 0;                     // transcript_evictions last sampled
  uint64_t write_errors_seen_ = 0;                  // transcript_write_errors last sampled
  uint64_t dropped_events_seen_ = 0;                // events dropped for slow clients, sampled
  uint64_t dropped_replies_seen_ = 0;               // replies dropped for slow clients, sampled
};

}  // namespace ccmesh::broker
