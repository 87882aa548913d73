// A worker's HTTP endpoint and both programs' JSON logs, through the real programs:
// readiness that follows the broker, metrics checked by the real promtool, a lapsed lease
// counted, the token rule, and log lines a collector can parse.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/cluster.hpp"
#include "http_probe.hpp"

namespace ccmesh::test {
namespace {

using Json = nlohmann::json;

// The worker's /readyz: its status and body; status 0 if it did not answer.
std::pair<int, Json> readiness(httplib::Client& http) {
  auto reply = http.Get("/readyz");
  if (!reply) return {0, Json()};
  return {reply->status, Json::parse(reply->body)};
}

// The worker's metrics now ("" if it did not answer).
std::string metrics(httplib::Client& http) {
  auto reply = http.Get("/metrics");
  return reply && reply->status == 200 ? reply->body : std::string();
}

// Every line of `log` as JSON; fails the test on a line that is not.
std::vector<Json> jsonLines(const std::string& log) {
  std::vector<Json> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Json parsed = Json::parse(line, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "not a JSON line: " << line;
    if (!parsed.is_discarded()) lines.push_back(std::move(parsed));
  }
  return lines;
}

TEST(WorkerMonitoringTest, ReadyWhileRegisteredWithABrokerAndSaysWhyNot) {
  Cluster cluster({"--heartbeat-ms", "100"});
  auto http = httpClient(cluster.startWorkerWithHttp("w1"));
  EXPECT_TRUE(waitFor([&] { return readiness(http).first == 200; }));
  EXPECT_EQ(http.Get("/healthz")->status, 200);

  cluster.broker().signal(SIGKILL);
  std::pair<int, Json> down;
  ASSERT_TRUE(waitFor([&] {
    down = readiness(http);
    return down.first == 503;
  })) << cluster.logs();
  EXPECT_EQ(down.second["ready"], false);
  EXPECT_NE(down.second["reason"].get<std::string>().find("not registered"), std::string::npos)
      << down.second.dump();
  EXPECT_EQ(http.Get("/healthz")->status, 200) << "the loop runs: healthy, not ready";

  cluster.restartBroker();
  EXPECT_TRUE(waitFor([&] { return readiness(http).first == 200; })) << cluster.logs();
}

TEST(WorkerMonitoringTest, MetricsCountSpawnsAndLeaseRenewalsAndPassPromtool) {
  Cluster cluster({"--heartbeat-ms", "100"});
  auto http = httpClient(cluster.startWorkerWithHttp("w1"));
  auto client = cluster.client();
  ASSERT_TRUE(client->start("s").ok());
  ASSERT_TRUE(client->query("s", "hello").ok());

  std::string text;
  ASSERT_TRUE(waitFor([&] {
    text = metrics(http);
    return sampleOf(text, "ccmesh_worker_lease_renewals_total") >= 2;
  })) << text;
  EXPECT_EQ(sampleOf(text, "ccmesh_worker_cli_spawns_total"), 1);
  EXPECT_EQ(sampleOf(text, "ccmesh_worker_cli_spawn_duration_seconds_count"), 1);
  EXPECT_EQ(sampleOf(text, "ccmesh_worker_cli_crashes_total"), 0);
  EXPECT_EQ(sampleOf(text, "ccmesh_worker_hosted_sessions{state=\"idle\"}"), 1);
  EXPECT_EQ(sampleOf(text, "ccmesh_worker_cli_processes{state=\"live\"}"), 1);
  EXPECT_EQ(sampleOf(text, "ccmesh_worker_registered"), 1);
  EXPECT_EQ(sampleOf(text, "ccmesh_worker_turn_queue_depth"), 0);
  EXPECT_GE(sampleOf(text, "ccmesh_worker_heartbeat_round_trip_seconds_count"), 2);
  EXPECT_EQ(sampleOf(text, "ccmesh_worker_lease_lapses_total"), 0);
  EXPECT_NE(text.find("ccmesh_build_info{component=\"worker\""), std::string::npos);
  EXPECT_EQ(text.find("session=\""), std::string::npos) << "no session name as a label";
  // The memory probe runs once a second: wait for it rather than for a second to pass.
  EXPECT_TRUE(waitFor(
      [&] { return sampleOf(metrics(http), "ccmesh_worker_cli_resident_memory_bytes") > 0; }));

  const std::string file = cluster.dir() + "/worker-metrics.txt";
  std::ofstream(file) << metrics(http);
  auto check = runCommand("/bin/sh", {"-c", "promtool check metrics < " + file});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

  // The worker's own sessions, never their transcripts.
  auto sessions = http.Get("/api/sessions");
  ASSERT_TRUE(sessions);
  const auto listed = Json::parse(sessions->body)["sessions"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["name"], "s");
  EXPECT_EQ(listed[0]["turns"], 1);
  auto status = http.Get("/api/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(Json::parse(status->body)["id"], "w1");
  EXPECT_EQ(http.Get("/api/transcript")->status, 404);
}

TEST(WorkerMonitoringTest, ALapsedLeaseIsCountedAndTheWorkerIsNotReady) {
  Cluster cluster({"--heartbeat-ms", "100"});
  auto http = httpClient(cluster.startWorkerWithHttp("w1"));
  auto client = cluster.client();
  ASSERT_TRUE(client->start("s").ok());
  // A frozen broker acknowledges nothing: the worker's lease runs out and it stops its
  // sessions itself; its endpoint keeps answering meanwhile.
  cluster.broker().signal(SIGSTOP);
  std::string text;
  const bool lapsed = waitFor([&] {
    text = metrics(http);
    return sampleOf(text, "ccmesh_worker_lease_lapses_total") == 1;
  });
  const auto down = readiness(http);
  cluster.broker().signal(SIGCONT);
  ASSERT_TRUE(lapsed) << text << cluster.logs();
  EXPECT_EQ(down.first, 503);
  EXPECT_EQ(sampleOf(text, "ccmesh_worker_hosted_sessions{state=\"idle\"}"), -1);
  EXPECT_TRUE(waitFor([&] { return readiness(http).first == 200; })) << cluster.logs();
}

TEST(WorkerMonitoringTest, ATokenIsRequiredWhenGivenAndElsewhereThanLoopback) {
  Cluster cluster;
  const std::string token_file = cluster.dir() + "/worker-token";
  std::ofstream(token_file) << "w0rker-token\n";
  auto http = httpClient(cluster.startWorkerWithHttp("w1", {"--http-token-file", token_file}));
  EXPECT_EQ(http.Get("/metrics")->status, 401);
  http.set_bearer_token_auth("w0rker-token");
  EXPECT_EQ(http.Get("/metrics")->status, 200);

  auto open = runCommand(binaryPath("ccmesh-worker"), {"--http", "0.0.0.0:0"});
  EXPECT_EQ(open.exit_code, 2) << open.err;
  EXPECT_NE(open.err.find("--http-token-file"), std::string::npos) << open.err;
  auto lonely = runCommand(binaryPath("ccmesh-worker"), {"--http-token-file", token_file});
  EXPECT_EQ(lonely.exit_code, 2);
  EXPECT_NE(lonely.err.find("needs --http"), std::string::npos) << lonely.err;
}

TEST(JsonLogTest, BrokerAndWorkerWriteOneJsonObjectALineWithTheirFields) {
  Cluster cluster({"--log-format", "json"});
  cluster.startWorker("w1", {"--log-format", "json"});
  auto client = cluster.client();
  ASSERT_TRUE(client->start("s").ok());
  ASSERT_TRUE(client->query("s", "hello").ok());

  const auto worker_lines = jsonLines(cluster.worker("w1").log());
  ASSERT_FALSE(worker_lines.empty());
  bool named_session = false;
  for (const auto& line : worker_lines) {
    EXPECT_TRUE(line.contains("time") && line.contains("level") && line.contains("message"))
        << line.dump();
    EXPECT_EQ(line["worker"], "w1") << line.dump();
    if (line.value("session", "") == "s") {
      named_session = true;
      EXPECT_EQ(line["message"].get<std::string>().rfind("[session", 0), std::string::npos);
    }
  }
  EXPECT_TRUE(named_session) << cluster.worker("w1").log();

  bool broker_request = false;
  for (const auto& line : jsonLines(cluster.broker().log())) {
    EXPECT_TRUE(line.contains("component")) << line.dump();
    if (line.contains("request") && line["request"].is_number()) broker_request = true;
  }
  EXPECT_TRUE(broker_request) << cluster.broker().log();

  for (const std::string program : {"ccmesh-broker", "ccmesh-worker"}) {
    auto bad = runCommand(binaryPath(program), {"--log-format", "xml"});
    EXPECT_EQ(bad.exit_code, 2) << program;
    EXPECT_NE(bad.err.find("--log-format"), std::string::npos) << bad.err;
  }
}

}  // namespace
}  // namespace ccmesh::test
