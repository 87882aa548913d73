#include "monitor/worker_monitor.hpp"

#include "ccmesh/common/logging.hpp"
#include "ccmesh/worker/worker.hpp"
#include "monitor/worker_metrics.hpp"

namespace ccmesh::worker {
namespace {

using monitoring::HttpEndpoint;
using Reply = HttpEndpoint::Reply;

Json sessionJson(const msg::SessionUpdate& update, std::size_t queued) {
  return Json{{"name", update.session},
              {"generation", update.generation},
              {"state", update.state},
              {"pid", update.pid},
              {"session_id", update.session_id},
              {"restarts", update.restarts},
              {"recycles", update.recycles},
              {"turns", update.turns},
              {"queued", queued},
              {"rss_kb", update.rss_kb},
              {"last_error", update.last_error}};
}

}  // namespace

WorkerMonitor::WorkerMonitor(Worker& worker, monitoring::HttpOptions options)
    : worker_(worker),
      metrics_(std::make_unique<WorkerMetrics>()),
      endpoint_(std::move(options), componentLogger("http")) {
  worker_.setMeter(*metrics_);
  route();
  url_ = endpoint_.start();
}

WorkerMonitor::~WorkerMonitor() {
  endpoint_.stop();
  worker_.setMeter(WorkerMeter::none());
}

void WorkerMonitor::route() {
  auto& mailbox = worker_.mailbox();
  // Gauges are sampled on the loop, which owns the sessions; the text is made off it.
  endpoint_.metrics(
      "/metrics", mailbox, [this] { metrics_->sample(worker_.figures()); },
      [this] { return metrics_->render(); });
  endpoint_.health("/healthz", mailbox);
  endpoint_.get("/readyz", [this, &mailbox](const auto&) {
    return HttpEndpoint::fromLoop(mailbox, [this] {
      const Worker::Readiness readiness = worker_.readiness();
      if (readiness.ready) return HttpEndpoint::json({{"ready", true}});
      Reply reply = HttpEndpoint::json({{"ready", false}, {"reason", readiness.reason}});
      reply.status = 503;
      return reply;
    });
  });
  endpoint_.get("/api/status", [this, &mailbox](const auto&) {
    return HttpEndpoint::fromLoop(mailbox, [this] {
      const Worker::Figures figures = worker_.figures();
      return HttpEndpoint::json({{"id", figures.id},
                                 {"broker", figures.broker},
                                 {"ready", figures.readiness.ready},
                                 {"reason", figures.readiness.reason},
                                 {"capacity", figures.capacity},
                                 {"max_live", figures.max_live},
                                 {"live", figures.live},
                                 {"hibernated", figures.hibernated},
                                 {"states", figures.states},
                                 {"queued", figures.queued},
                                 {"rss_bytes", figures.rss_bytes}});
    });
  });
  endpoint_.get("/api/sessions", [this, &mailbox](const auto&) {
    return HttpEndpoint::fromLoop(mailbox, [this] {
      Json sessions = Json::array();
      for (const auto& [update, queued] : worker_.sessions()) {
        sessions.push_back(sessionJson(update, queued));
      }
      return HttpEndpoint::json({{"sessions", std::move(sessions)}});
    });
  });
}

}  // namespace ccmesh::worker
