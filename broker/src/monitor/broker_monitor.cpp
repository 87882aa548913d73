#include "ccmesh/broker/broker_monitor.hpp"

#include "ccmesh/broker/broker.hpp"
#include "ccmesh/common/json_forms.hpp"
#include "ccmesh/common/logging.hpp"
#include "feed/backlog_feed.hpp"
#include "http_api/http_api.hpp"
#include "monitor/broker_metrics.hpp"
#include "monitor/status_page.hpp"

namespace ccmesh::broker {
namespace {

constexpr std::size_t kBacklog = 4096;  // events kept for /events streams that reconnect
constexpr Millis kDrainPatience{5000};  // at shutdown, for the HTTP API's requests to end

HttpApi::Limits apiLimits(const Broker& broker, const monitoring::HttpOptions& options) {
  HttpApi::Limits limits;
  limits.max_queries = options.long_requests;
  limits.query_grace = broker.config().backstop_grace + Millis{1000};
  // Under CURVE, an HTTP caller without a token would act as the broker's own client.
  limits.locked = !broker.config().curve_secret_file.empty() && options.token_file.empty();
  return limits;
}

using monitoring::HttpEndpoint;
using Reply = HttpEndpoint::Reply;

}  // namespace

BrokerMonitor::BrokerMonitor(Broker& broker, monitoring::HttpOptions options)
    : broker_(broker),
      metrics_(std::make_unique<BrokerMetrics>()),
      backlog_(kBacklog),
      feed_(std::make_unique<BacklogFeed>(backlog_, broker_.shownEvents())),
      api_(std::make_unique<HttpApi>(broker_.context(), broker_.localEndpoint(),
                                     apiLimits(broker, options))),
      endpoint_(std::move(options), componentLogger("http")) {
  broker_.observe(*metrics_);
  broker_.observe(*feed_);
  route();
  url_ = endpoint_.start();
}

BrokerMonitor::~BrokerMonitor() {
  // The API's requests under way end first: the loop (stopped by now) runs meanwhile, so
  // that their cancels and answers travel.
  api_->close();
  const auto give_up = std::chrono::steady_clock::now() + kDrainPatience;
  while (!api_->idle() && std::chrono::steady_clock::now() < give_up) {
    broker_.pollOnce(Millis{20});
  }
  backlog_.close();  // streams end, so the endpoint's threads can
  endpoint_.stop();
  broker_.stopObserving(*feed_);
  broker_.stopObserving(*metrics_);
}

void BrokerMonitor::route() {
  auto& mailbox = broker_.mailbox();
  // Gauges are sampled on the loop, which owns the tables; the text is made off it.
  endpoint_.metrics(
      "/metrics", mailbox,
      [this] {
        BrokerMetrics::Sample sample;
        sample.status = broker_.status();
        sample.states = broker_.count().states;
        sample.pools = broker_.poolList().pools;
        sample.stats = broker_.stats();
        sample.watchers = broker_.watchers();
        metrics_->sample(sample);
      },
      [this] { return metrics_->render(); });
  endpoint_.health("/healthz", mailbox);
  endpoint_.get("/readyz", [this, &mailbox](const auto&) {
    return HttpEndpoint::fromLoop(mailbox, [this] {
      return HttpEndpoint::json(
          {{"ready", true}, {"workers", static_cast<uint64_t>(broker_.status().workers.size())}});
    });
  });
  // The JSON API: each answer is made on the loop, which owns the tables.
  const auto api = [this, &mailbox](const std::string& path, std::function<Json()> make) {
    endpoint_.get(path, [&mailbox, make = std::move(make)](const auto&) {
      return HttpEndpoint::fromLoop(mailbox, [make] { return HttpEndpoint::json(make()); });
    });
  };
  api("/api/status", [this] { return Json(broker_.status()); });
  api("/api/sessions", [this] { return Json{{"sessions", broker_.list().sessions}}; });
  api("/api/pools", [this] { return Json{{"pools", broker_.poolList().pools}}; });
  endpoint_.events("/events", backlog_);
  api_->serveOn(endpoint_);
  endpoint_.get("/", [](const auto&) {
    return Reply{200, "text/html; charset=utf-8", std::string(kStatusPage)};
  });
}

}  // namespace ccmesh::broker
