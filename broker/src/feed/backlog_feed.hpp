#pragma once

#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/monitoring/event_backlog.hpp"
#include "feed/shown_events.hpp"

namespace ccmesh::broker {

// The broker's events for the HTTP endpoint's /events streams: each rendered as the JSON
// line `ccmesh watch --json` prints, into a backlog the streams read on their own threads.
// While no stream reads, events are only counted (rendering them would cost the loop).
class BacklogFeed final : public BrokerObserver {
 public:
  // `shown` renders the events (shared with `watch`).
  BacklogFeed(monitoring::EventBacklog& backlog, ShownEvents& shown)
      : backlog_(backlog), shown_(shown) {}

  void onEvent(const BrokerEvent& event) override;

 private:
  monitoring::EventBacklog& backlog_;  // read by the streams
  ShownEvents& shown_;                 // the events rendered, shared with `watch`
};

}  // namespace ccmesh::broker
