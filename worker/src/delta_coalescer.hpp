#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/replies.hpp"

namespace ccmesh::worker {

// Merges the text deltas of one query into fewer `event` messages where that costs no
// latency. A CLI streams a turn as many tiny deltas, and each one costs the broker a whole
// message; deltas that would have waited anyway are joined instead.
//
// A query's delta goes out at once when it is the query's first, or when nothing of the
// query waits and none was sent in this round or within the last `window`. Otherwise it is
// held, appended to the query's held text, until release(): a round ends after each read of
// a CLI's output and each loop iteration, so deltas parsed from one read leave as one event;
// held text also waits while the broker link has a backlog (it would wait in that queue)
// and until `window` has passed since the query's last event. Held text never grows past
// `max_bytes` (a delta that would make it do so sends it first). Events leave numbered
// consecutively per query from the first delta's seq; their texts, concatenated, are
// exactly the deltas given. Pure: the caller sends, and tells the time.
class DeltaCoalescer {
 public:
  struct Settings {
    std::size_t max_bytes = 16u << 10;  // most text one merged event carries
    Millis window{2};                   // least time between two events of a query (0: none)
  };

  explicit DeltaCoalescer(Settings settings) : settings_(settings) {}

  // A `delta` event of its query, at `now`. Appends to `out` what is to be sent now.
  // `link_backlog`: the broker link has messages the socket has not taken yet.
  void add(const msg::Event& delta, TimePoint now, bool link_backlog, std::vector<msg::Event>& out);
  // Ends the round. Unless the link has a backlog, appends to `out` the held text of every
  // query whose window has passed.
  void release(TimePoint now, bool link_backlog, std::vector<msg::Event>& out);
  // The held text of query `id`, now: something else of that query is about to be sent.
  std::optional<msg::Event> take(uint64_t id);
  // Query `id` has ended: its held text (if any), and it is forgotten.
  std::optional<msg::Event> finish(uint64_t id);
  // Everything held, in no particular order (shutdown).
  void takeAll(std::vector<msg::Event>& out);
  // Forgets every query without sending anything.
  void clear() { queries_.clear(); }

  // When release() next has something to send, if the link has no backlog.
  std::optional<TimePoint> nextRelease() const;
  // Queries with held text.
  std::size_t holding() const;

 private:
  // What is known of one streaming query.
  struct Query {
    uint64_t next_seq = 0;       // seq of its next event
    std::string held;            // text not sent yet
    TimePoint last_sent{};       // when its last event was sent
    uint64_t sent_in_round = 0;  // round_ of its last event (0: never sent)
  };

  // `text` as the next event of `query`, sent at `now`.
  msg::Event next(uint64_t id, Query& query, std::string text, TimePoint now);

  Settings settings_;                            // bounds
  std::unordered_map<uint64_t, Query> queries_;  // by request id, while they stream
  uint64_t round_ = 1;                           // counts release() calls, from 1
};

}  // namespace ccmesh::worker
