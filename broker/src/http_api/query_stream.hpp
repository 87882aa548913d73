#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ccmesh/client/client.hpp"
#include "ccmesh/common/clock.hpp"
#include "ccmesh/monitoring/http_endpoint.hpp"
#include "http_api/counted.hpp"
#include "http_api/local_clients.hpp"

namespace ccmesh::broker {

// One query streamed to an HTTP client as server-sent events (docs/HTTP.md "Streaming"):
// `delta` events as the answer grows, then one `result` or `error` event. Each event goes
// out as soon as it comes; those that queued up meanwhile go out together in one write. While
// nothing comes it writes a comment every kKeepalive, so a client that went away is noticed; a
// client gone cancels the query. Whatever way it ends, the query has ended (or was
// cancelled) before its client goes back to the pool; a query still running when the
// stream is dropped unread is cancelled then.
class QueryStream {
 public:
  // Takes a sent query `id` on `client`, to be answered by `deadline` at the latest; holds
  // `slots` (the API's counts of queries and requests) until it is destroyed, and ends
  // with `unavailable` once `closing` is set.
  QueryStream(LocalClients::Lease client, uint64_t id, TimePoint deadline,
              std::vector<Counted> slots, const std::atomic<bool>& closing);
  ~QueryStream();
  QueryStream(const QueryStream&) = delete;
  QueryStream& operator=(const QueryStream&) = delete;

  // The query's first reply within `wait`, kept for run(): the caller decides the HTTP
  // status by it (an error this early gets its own).
  const std::optional<client::Incoming>& first(Millis wait);

  // Writes the events until the query ends or the peer is gone.
  void run(const monitoring::HttpEndpoint::StreamWrite& write);

  static constexpr Millis kKeepalive{500};
  // Events already queued are written together, up to about this many bytes a write.
  static constexpr std::size_t kGatherBytes = 16 * 1024;
  // After a cancel, how long the query may take to end before its client is closed.
  static constexpr Millis kCancelPatience{2000};

 private:
  // Appends one reply as an event to `out`; true once it was the final one.
  // A tool question of the query: an HTTP caller cannot answer it, so it is denied at once.
  void denyQuestion(const client::Incoming& question);
  bool render(const client::Incoming& reply, std::string& out);
  // Cancels the query and waits (briefly) for its end.
  void cancel();

  LocalClients::Lease client_;
  uint64_t id_;
  TimePoint deadline_;
  std::vector<Counted> slots_;
  const std::atomic<bool>& closing_;
  std::optional<client::Incoming> first_;  // read by first(), not yet written
  bool ended_ = false;                     // the final reply came
};

}  // namespace ccmesh::broker
