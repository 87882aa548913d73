#pragma once

#include <memory>
#include <string>

#include "ccmesh/monitoring/http_endpoint.hpp"
#include "ccmesh/monitoring/http_options.hpp"

namespace ccmesh::worker {

class Worker;
class WorkerMetrics;

// A worker's HTTP endpoint (docs/OPERATIONS.md "Monitoring"): /metrics, /healthz, /readyz
// (200 while registered with a broker, else 503 with the reason), /api/status and
// /api/sessions (this worker's own sessions). It meters the worker as it runs and asks the
// worker's loop for its sessions through the worker's mailbox; it never touches them from
// its own threads. Transcripts are not served.
class WorkerMonitor {
 public:
  // Starts serving per `options` (listen must be set). Throws ConfigError if it cannot bind.
  // Construct it before the worker runs; destroy it after.
  WorkerMonitor(Worker& worker, monitoring::HttpOptions options);
  ~WorkerMonitor();
  WorkerMonitor(const WorkerMonitor&) = delete;
  WorkerMonitor& operator=(const WorkerMonitor&) = delete;

  // The address served, as bound ("http://127.0.0.1:PORT").
  const std::string& url() const { return url_; }

 private:
  void route();

  Worker& worker_;                          // what it shows
  std::unique_ptr<WorkerMetrics> metrics_;  // the worker's meter: the Prometheus metrics
  monitoring::HttpEndpoint endpoint_;       // the HTTP server
  std::string url_;                         // as bound
};

}  // namespace ccmesh::worker
