#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <utility>

#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/requests.hpp"
#include "core/peer_sender.hpp"
#include "feed/shown_events.hpp"

namespace ccmesh::broker {

// Clients watching the broker's events (`watch`): each gets every event, or those of one
// session or pool, in `event` replies under its request id. Events are gathered for up to
// `gather` and go out together, one reply per batch (a busy broker makes events by the
// thousand a second: one message each would cost it more than the work they describe).
// A watcher that does not read fast enough is not allowed to slow the broker: its batches
// wait in a queue of its own (after the socket's) up to `queue_limit` events; past that the
// watch ends with `busy`.
class WatchFeed final : public BrokerObserver {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // `shown` renders the events (and tells which pool a member session belongs to).
  WatchFeed(PeerSender& sender, ShownEvents& shown, std::size_t queue_limit, Millis gather);

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
  // Sends the batches gathered long enough, then what waits in the watchers' queues, as far
  // as their sockets take it.
  void flush();
  // Sends every batch being gathered, due or not, then the queues (the broker stops).
  void flushAll();
  // When the oldest batch being gathered is due (none: nothing gathered).
  std::optional<SteadyTime> nextFlush() const;
  // True while some watcher's queue holds events.
  bool hasBacklog() const;

  void onEvent(const BrokerEvent& event) override;

  std::size_t watchers() const { return watchers_.size(); }

 private:
  // Events gathered for one watcher, each packed as a FeedEvent, one after the other.
  struct Gathered {
    msgpack::sbuffer events;
    std::size_t count = 0;
    SteadyTime since;  // when the first came
  };
  // A batch its socket did not take yet.
  struct Queued {
    msgpack::sbuffer body;
    std::size_t events = 0;
  };
  struct Watcher {
    std::string session;       // only this session's events (empty: all)
    std::string pool;          // only this pool's events (empty: all)
    Gathered gathered;         // not sent yet
    std::deque<Queued> queue;  // batches its socket did not take yet
    std::size_t queued = 0;    // events in `queue`
  };
  using Key = std::pair<std::string, uint64_t>;  // (client routing id, request id)

  // flush() (`all` false) or flushAll().
  void flush(bool all);
  // Sends the gathered events as one batch; false when the watcher passed its limit.
  bool send(const Key& key, Watcher& watcher);
  // Sends a watcher's queue, then `batch` (if any); false when it passed the limit.
  bool deliver(const Key& key, Watcher& watcher, Queued* batch);
  // Ends a watch with `busy`.
  void cutOff(const Key& key);

  PeerSender& sender_;               // where events go
  ShownEvents& shown_;               // the events rendered, shared with /events
  std::size_t queue_limit_;          // most events queued per watcher
  Millis gather_;                    // longest an event waits for others
  std::map<Key, Watcher> watchers_;  // the watches running
};

}  // namespace ccmesh::broker
