// A real Prometheus server scrapes the broker and a worker: what its query API shows is
// what the cluster did.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "harness/cluster.hpp"
#include "harness/listening_ports.hpp"
#include "http_probe.hpp"

namespace ccmesh::test {
namespace {

using Json = nlohmann::json;

// "127.0.0.1:PORT" of an http://127.0.0.1:PORT URL.
std::string hostPort(const std::string& url) { return url.substr(url.find("//") + 2); }

// The value of instant query `promql` (its single series), or nullopt if there is none.
std::optional<double> instant(httplib::Client& prometheus, const std::string& promql) {
  auto reply =
      prometheus.Get("/api/v1/query", httplib::Params{{"query", promql}}, httplib::Headers{});
  if (!reply || reply->status != 200) return std::nullopt;
  const Json body = Json::parse(reply->body, nullptr, false);
  if (body.is_discarded() || body["status"] != "success") return std::nullopt;
  const auto& result = body["data"]["result"];
  if (result.size() != 1) return std::nullopt;
  return std::stod(result[0]["value"][1].get<std::string>());
}

TEST(PrometheusTest, ItsQueryApiShowsEveryQueryTheClusterAnswered) {
  Cluster cluster;
  const std::string worker_http = cluster.startWorkerWithHttp("w1");
  auto client = cluster.client();
  ASSERT_TRUE(client->start("s").ok());

  const std::string config = cluster.dir() + "/prometheus.yml";
  std::ofstream(config) << "global:\n"
                        << "  scrape_interval: 200ms\n"
                        << "  scrape_timeout: 150ms\n"
                        << "scrape_configs:\n"
                        << "  - job_name: broker\n"
                        << "    static_configs: [{targets: ['" << hostPort(cluster.http())
                        << "']}]\n"
                        << "  - job_name: worker\n"
                        << "    static_configs: [{targets: ['" << hostPort(worker_http) << "']}]\n";
  Process server("/usr/bin/prometheus",
                 {"--config.file=" + config, "--storage.tsdb.path=" + cluster.dir() + "/tsdb",
                  "--web.listen-address=127.0.0.1:0", "--log.level=warn"},
                 cluster.dir() + "/prometheus.log");
  std::vector<int> ports;
  ASSERT_TRUE(waitFor([&] {
    ports = listeningPorts(server.pid());
    return !ports.empty() || !server.running();
  }));
  ASSERT_EQ(ports.size(), 1u) << server.log();
  auto prometheus = httpClient("http://127.0.0.1:" + std::to_string(ports[0]));

  // Both targets scraped, and the count before the test's queries known.
  const std::string ok = "ccmesh_queries_total{job=\"broker\",outcome=\"ok\"}";
  std::optional<double> before;
  ASSERT_TRUE(waitFor([&] {
    before = instant(prometheus, ok);
    return before && instant(prometheus, "up{job=\"worker\"}") == 1.0 &&
           instant(prometheus, "up{job=\"broker\"}") == 1.0;
  })) << server.log();

  constexpr int kQueries = 5;
  for (int i = 0; i < kQueries; ++i) ASSERT_TRUE(client->query("s", "hello").ok());
  std::optional<double> after;
  EXPECT_TRUE(waitFor([&] {
    after = instant(prometheus, ok);
    return after && *after == *before + kQueries;
  })) << "before "
      << before.value_or(-1) << ", after " << after.value_or(-1);
  EXPECT_EQ(instant(prometheus, "ccmesh_worker_cli_spawns_total{job=\"worker\"}"), 1.0);
  EXPECT_EQ(instant(prometheus, "ccmesh_workers_connected{job=\"broker\"}"), 1.0);
}

}  // namespace
}  // namespace ccmesh::test
