#pragma once

#include <algorithm>
#include <vector>

#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/common/clock.hpp"

namespace ccmesh::broker {

// Numbers the broker core's events and hands each to every observer, in subscription order.
// Single-threaded like the rest of the broker.
class EventBus {
 public:
  explicit EventBus(const Clock& clock) : clock_(clock) {}

  // `observer` must outlive its subscription.
  void subscribe(BrokerObserver& observer) { observers_.push_back(&observer); }
  void unsubscribe(BrokerObserver& observer) { std::erase(observers_, &observer); }

  // Announces one change.
  void emit(event::Body body) {
    const BrokerEvent event{++seq_, clock_.now(), std::move(body)};
    for (auto* observer : observers_) observer->onEvent(event);
  }

  // The last sequence number given (0: none yet).
  uint64_t lastSeq() const { return seq_; }

 private:
  const Clock& clock_;                      // stamps events
  std::vector<BrokerObserver*> observers_;  // in subscription order
  uint64_t seq_ = 0;                        // last number given
};

}  // namespace ccmesh::broker
