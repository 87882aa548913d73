#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <msgpack.hpp>
#include <string>
#include <utility>

#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/broker/pool_registry.hpp"
#include "ccmesh/common/requests.hpp"
#include "core/peer_sender.hpp"

namespace ccmesh::broker {

// Clients watching the broker's events (`watch`): each gets every event, or those of one
// session or pool, as an `event` reply under its request id. A watcher that does not read
// fast enough is not allowed to slow the broker: its events wait in a queue of its own
// (after the socket's) up to `queue_limit`; past that the watch ends with `busy`.
class WatchFeed final : public BrokerObserver {
 public:
  // `pools` tells which pool a member session belongs to.
  WatchFeed(PeerSender& sender, const PoolRegistry& pools, std::size_t queue_limit);

  // A client's `watch` (id checked, names valid).
  void watch(const std::string& client, const msg::Watch& watch);
  // `cancel` of a watch: it ends with `cancelled`. False if `id` is no watch of `client`.
  bool cancel(const std::string& client, uint64_t id);
  // The client is gone: its watches end without a word.
  void clientLost(const std::string& client);
  // True if watch `id` of `client` runs (ping, duplicate ids).
  bool holds(const std::string& client, uint64_t id) const {
    return watchers_.count({client, id}) != 0;
  }
  // Sends what waits in the watchers' queues, as far as their sockets take it.
  void flush();
  // True while some watcher's queue holds events.
  bool hasBacklog() const;

  void onEvent(const BrokerEvent& event) override;

  std::size_t watchers() const { return watchers_.size(); }

 private:
  struct Watcher {
    std::string session;                 // only this session's events (empty: all)
    std::string pool;                    // only this pool's events (empty: all)
    std::deque<msgpack::sbuffer> queue;  // events its socket did not take yet
  };
  using Key = std::pair<std::string, uint64_t>;  // (client routing id, request id)

  // Sends a watcher's queue, then `body` (if any); false when it passed the limit.
  bool deliver(const Key& key, Watcher& watcher, msgpack::sbuffer* body);
  // Ends a watch with `busy`.
  void cutOff(const Key& key);

  PeerSender& sender_;               // where events go
  const PoolRegistry& pools_;        // members' pools, for pool filters
  std::size_t queue_limit_;          // most events queued per watcher
  std::map<Key, Watcher> watchers_;  // the watches running
};

}  // namespace ccmesh::broker
