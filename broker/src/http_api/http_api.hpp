#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/monitoring/http_endpoint.hpp"
#include "http_api/local_clients.hpp"

namespace ccmesh::broker {

// The HTTP API (docs/HTTP.md): queries of sessions and pools answered as JSON or streamed as
// server-sent events, a session's info, start and terminate. Every request goes to the
// broker as a client request through LocalClients, so it meets the broker's own checks; the
// API checks the caller's token role first (query: queries and reads; admin: everything).
class HttpApi {
 public:
  struct Limits {
    std::size_t max_queries = 128;  // queries running at once; more get 429 busy
    // The longest a request waits for the broker when it gives no timeout_ms: the broker's
    // deadlines (the session's query_timeout_ms, its backstop) end it long before.
    Millis patience{24 * 60 * 60 * 1000};
    Millis query_grace{6000};  // past a query's timeout_ms, for the broker's `timeout`
    // The broker runs CURVE and the listener has no token file: HTTP callers cannot be
    // told apart, so the API refuses every request (the monitoring routes stay).
    bool locked = false;
  };
  // The largest timeout_ms a query may give (30 days).
  static constexpr uint64_t kMaxTimeoutMs = 30ull * 24 * 60 * 60 * 1000;

  HttpApi(zmq::context_t& context, std::string local_endpoint, Limits limits);
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Registers the API's routes on `endpoint` (before it starts). The API must outlive the
  // endpoint's serving (stop the endpoint first).
  void serveOn(monitoring::HttpEndpoint& endpoint);

  // The broker stops: new requests get 503, streams end with an `unavailable` event at
  // their next wait, queries waiting without a stream are cancelled. The broker's loop must
  // keep running until idle() so that the requests under way get their answers.
  void close() { closing_ = true; }
  bool idle() const { return open_.load() == 0; }

  // How long a stream waits for the first reply before it commits to 200: an error that
  // comes sooner (unknown session, busy) gets its own status instead.
  static constexpr Millis kCommitWait{1000};

 private:
  using Request = monitoring::HttpEndpoint::Request;
  using Answer = monitoring::HttpEndpoint::Answer;

  // Refuses a request when the API is locked or closing: the answer, or nothing.
  std::optional<Answer> refuse() const;
  Answer query(const Request& request, bool pool);
  Answer info(const Request& request);
  Answer start(const Request& request);
  Answer terminate(const Request& request);

  LocalClients clients_;                 // the API's way to the broker
  Limits limits_;                        // as given
  std::atomic<std::size_t> running_{0};  // queries running now
  std::atomic<std::size_t> open_{0};     // requests under way (streams until they end)
  std::atomic<bool> closing_{false};     // close() was called
};

}  // namespace ccmesh::broker
