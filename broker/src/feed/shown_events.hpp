#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string>

#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/broker/pool_registry.hpp"
#include "ccmesh/common/replies.hpp"

namespace ccmesh::broker {

// Each broker event as the feeds show it (`watch`, /events), rendered once for all of them:
// the first feed to ask for an event renders it, the others get the same rendering; its
// packed and JSON forms are made only when a feed asks for them. Used on the loop's thread.
class ShownEvents {
 public:
  struct Shown {
    uint64_t seq = 0;      // the event's
    std::string session;   // the session it is about; empty if none
    std::string pool;      // the pool it is about, or its session's pool; empty if none
    std::string own_pool;  // the pool it is about itself; empty if none
    msg::FeedEvent event;  // as sent (id 0)
  };

  explicit ShownEvents(const PoolRegistry& pools) : pools_(pools) {}

  // The rendering of `event`.
  const Shown& of(const BrokerEvent& event);
  // `event` packed as a FeedEvent (id 0).
  const msgpack::sbuffer& packed(const BrokerEvent& event);
  // `event` as a JSON object (one line).
  const std::string& json(const BrokerEvent& event);

 private:
  const PoolRegistry& pools_;  // members' pools
  Shown last_;                 // the latest event rendered
  bool rendered_ = false;      // last_ holds one
  msgpack::sbuffer packed_;    // last_ packed, if packed_ready_
  bool packed_ready_ = false;
  std::string json_;  // last_ as JSON, if json_ready_
  bool json_ready_ = false;
};

}  // namespace ccmesh::broker
