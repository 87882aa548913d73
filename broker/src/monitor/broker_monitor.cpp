#include "ccmesh/broker/broker_monitor.hpp"

#include "ccmesh/broker/broker.hpp"
#include "ccmesh/common/json_forms.hpp"
#include "ccmesh/common/logging.hpp"
#include "feed/backlog_feed.hpp"
#include "monitor/broker_metrics.hpp"
#include "monitor/status_page.hpp"

namespace ccmesh::broker {
namespace {

constexpr Millis kLoopPatience{2000};   // the loop must answer an HTTP request within this
constexpr std::size_t kBacklog = 4096;  // events kept for /events streams that reconnect

using Reply = monitoring::HttpEndpoint::Reply;

Reply json(const Json& body) { return Reply{200, "application/json", body.dump() + "\n"}; }

Reply loopSilent() {
  return Reply{503, "application/json",
               "{\"error\":\"unavailable\",\"message\":\"the broker's loop did not answer "
               "within 2 s\"}\n"};
}

}  // namespace

BrokerMonitor::BrokerMonitor(Broker& broker, monitoring::HttpOptions options)
    : broker_(broker),
      metrics_(std::make_unique<BrokerMetrics>()),
      backlog_(kBacklog),
      feed_(std::make_unique<BacklogFeed>(backlog_)),
      endpoint_(std::move(options), componentLogger("http")) {
  broker_.observe(*metrics_);
  broker_.observe(*feed_);
  route();
  url_ = endpoint_.start();
}

BrokerMonitor::~BrokerMonitor() {
  backlog_.close();  // streams end, so the endpoint's threads can
  endpoint_.stop();
  broker_.stopObserving(*feed_);
  broker_.stopObserving(*metrics_);
}

std::optional<std::string> BrokerMonitor::onLoop(std::function<std::string()> job) {
  return broker_.mailbox().ask(std::move(job), kLoopPatience);
}

void BrokerMonitor::route() {
  endpoint_.get("/metrics", [this](const auto&) {
    // Gauges are sampled on the loop, which owns the tables; the text is made here.
    const auto sampled = onLoop([this] {
      BrokerMetrics::Sample sample;
      sample.status = broker_.status();
      sample.states = broker_.count().states;
      sample.pools = broker_.poolList().pools;
      sample.stats = broker_.stats();
      sample.watchers = broker_.watchers();
      metrics_->sample(sample);
      return std::string();
    });
    if (!sampled) return loopSilent();
    return Reply{200, "text/plain; version=0.0.4; charset=utf-8", metrics_->render()};
  });
  endpoint_.get("/healthz", [this](const auto&) {
    if (!onLoop([] { return std::string(); })) return loopSilent();
    return json(Json{{"status", "ok"}});
  });
  endpoint_.get("/readyz", [this](const auto&) {
    const auto workers = onLoop([this] { return std::to_string(broker_.status().workers.size()); });
    if (!workers) return loopSilent();
    return json(Json{{"ready", true}, {"workers", static_cast<uint64_t>(std::stoull(*workers))}});
  });
  // The JSON API: each answer is made on the loop, which owns the tables.
  const auto api = [this](const std::string& path, std::function<Json()> make) {
    endpoint_.get(path, [this, make = std::move(make)](const auto&) {
      const auto body = onLoop([&make] { return make().dump(); });
      return body ? Reply{200, "application/json", *body + "\n"} : loopSilent();
    });
  };
  api("/api/status", [this] { return Json(broker_.status()); });
  api("/api/sessions", [this] { return Json{{"sessions", broker_.list().sessions}}; });
  api("/api/pools", [this] { return Json{{"pools", broker_.poolList().pools}}; });
  endpoint_.events("/events", backlog_);
  endpoint_.get("/", [](const auto&) {
    return Reply{200, "text/html; charset=utf-8", std::string(kStatusPage)};
  });
}

}  // namespace ccmesh::broker
