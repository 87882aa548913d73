#pragma once

#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/broker/pool_registry.hpp"
#include "ccmesh/monitoring/event_backlog.hpp"

namespace ccmesh::broker {

// The broker's events for the HTTP endpoint's /events streams: each rendered as the JSON
// line `ccmesh watch --json` prints, into a backlog the streams read on their own threads.
// While no stream reads, events are only counted (rendering them would cost the loop).
class BacklogFeed final : public BrokerObserver {
 public:
  BacklogFeed(monitoring::EventBacklog& backlog, const PoolRegistry& pools)
      : backlog_(backlog), pools_(pools) {}

  void onEvent(const BrokerEvent& event) override;

 private:
  monitoring::EventBacklog& backlog_;  // read by the streams
  const PoolRegistry& pools_;          // whose members events name (the pool filter)
};

}  // namespace ccmesh::broker
