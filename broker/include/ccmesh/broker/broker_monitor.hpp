#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ccmesh/monitoring/event_backlog.hpp"
#include "ccmesh/monitoring/http_endpoint.hpp"
#include "ccmesh/monitoring/http_options.hpp"

namespace ccmesh::broker {

class Broker;
class BrokerMetrics;
class BacklogFeed;
class HttpApi;

// The broker's HTTP endpoint (docs/OPERATIONS.md "Monitoring", docs/HTTP.md): /metrics,
// /healthz, /readyz, /api/status, /api/sessions, /api/pools, /events, the status page at /,
// and the HTTP API (queries, a session's info, start, terminate). It observes the broker's
// events (metrics, live feed) and asks the broker's loop for its tables through the broker's
// mailbox; it never touches them from its own threads; the API's requests reach the broker
// as client requests. Transcripts are not served.
class BrokerMonitor {
 public:
  // Starts serving per `options` (listen must be set; long_requests: the API's queries at
  // once). Throws ConfigError if it cannot bind.
  // Construct and destroy it on the broker's loop thread, with the loop not running.
  // Destroying it first runs the loop (up to 5 s) while the HTTP API's requests end.
  BrokerMonitor(Broker& broker, monitoring::HttpOptions options);
  ~BrokerMonitor();
  BrokerMonitor(const BrokerMonitor&) = delete;
  BrokerMonitor& operator=(const BrokerMonitor&) = delete;

  // The address served, as bound ("http://127.0.0.1:PORT").
  const std::string& url() const { return url_; }

 private:
  // Registers the routes.
  void route();

  Broker& broker_;                          // what it shows
  std::unique_ptr<BrokerMetrics> metrics_;  // observer: the Prometheus metrics
  monitoring::EventBacklog backlog_;        // the latest events, for /events
  std::unique_ptr<BacklogFeed> feed_;       // observer: renders events into backlog_
  std::unique_ptr<HttpApi> api_;            // queries and session management
  monitoring::HttpEndpoint endpoint_;       // the HTTP server
  std::string url_;                         // as bound
};

}  // namespace ccmesh::broker
