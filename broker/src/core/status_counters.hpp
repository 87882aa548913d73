#pragma once

#include <variant>

#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/broker/broker_stats.hpp"

namespace ccmesh::broker {

// The counters `status` reports about the broker's own life, kept by watching its events.
class StatusCounters final : public BrokerObserver {
 public:
  void onEvent(const BrokerEvent& event) override {
    std::visit([this](const auto& body) { count(body); }, event.body);
  }

  // What was counted (the outbox's drop counters are not events: they stay zero here).
  const BrokerStats& counted() const { return stats_; }

 private:
  void count(const event::WorkerLost&) { ++stats_.workers_lost; }
  void count(const event::MessageRefused& refused) {
    switch (refused.kind) {
      case event::Refusal::kMalformed:
        ++stats_.malformed_messages;
        break;
      case event::Refusal::kStale:
        ++stats_.stale_messages;
        break;
      case event::Refusal::kUnauthorized:
        ++stats_.unauthorized;
        break;
      case event::Refusal::kWorkerIdRefused:
        ++stats_.refused_worker_ids;
        break;
      case event::Refusal::kHandshakeRefused:
        ++stats_.refused_handshakes;
        break;
    }
  }
  void count(const event::AllowListsReloaded& reload) {
    ++(reload.ok ? stats_.reloads : stats_.failed_reloads);
  }
  template <class Other>
  void count(const Other&) {}

  BrokerStats stats_;  // every counter but the outbox's
};

}  // namespace ccmesh::broker
