// The broker's HTTP endpoint and the `watch` feed, through the real programs: health,
// the JSON API, metrics checked by the real promtool, live events, the token rule.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "harness/cluster.hpp"
#include "http_probe.hpp"

namespace ccmesh::test {
namespace {

using Json = nlohmann::json;

class MonitoringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<Cluster>();
    ASSERT_FALSE(cluster_->http().empty()) << cluster_->logs();
    cluster_->startWorker("w1");
    client_ = cluster_->client();
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(MonitoringTest, HealthStatusAndSessionsAnswerAsTheProtocolDoes) {
  ASSERT_TRUE(client_->start("s").ok());
  auto http = httpClient(cluster_->http());
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  auto ready = http.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(Json::parse(ready->body)["workers"], 1);

  auto status = http.Get("/api/status");
  ASSERT_TRUE(status);
  ASSERT_EQ(status->status, 200);
  const auto shown = Json::parse(status->body);
  ASSERT_EQ(shown["workers"].size(), 1u);
  EXPECT_EQ(shown["workers"][0]["id"], "w1");
  EXPECT_EQ(shown["version"], client_->status()->version);

  ASSERT_TRUE(waitFor([&] {
    auto sessions = http.Get("/api/sessions");
    if (!sessions || sessions->status != 200) return false;
    const auto listed = Json::parse(sessions->body)["sessions"];
    return listed.size() == 1 && listed[0]["name"] == "s" && listed[0]["worker"] == "w1" &&
           listed[0]["state"] == "idle";
  }));
  // Transcripts are not served, and unknown paths say so.
  auto transcript = http.Get("/api/transcript?session=s");
  ASSERT_TRUE(transcript);
  EXPECT_EQ(transcript->status, 404);
  auto page = http.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("EventSource(\"/events\")"), std::string::npos);
}

TEST_F(MonitoringTest, MetricsCountEveryQueryAndPassPromtool) {
  ASSERT_TRUE(client_->start("s").ok());
  auto http = httpClient(cluster_->http());
  auto before = http.Get("/metrics");
  ASSERT_TRUE(before);
  const double ok_before = sampleOf(before->body, "ccmesh_queries_total{outcome=\"ok\"}");
  EXPECT_EQ(ok_before, 0);
  constexpr int kQueries = 3;
  for (int i = 0; i < kQueries; ++i) ASSERT_TRUE(client_->query("s", "hello").ok());
  EXPECT_EQ(client_->query("missing", "hello").error().code, ErrorCode::kNotFound);

  auto after = http.Get("/metrics");
  ASSERT_TRUE(after);
  ASSERT_EQ(after->status, 200);
  EXPECT_NE(after->get_header_value("Content-Type").find("version=0.0.4"), std::string::npos);
  const std::string& text = after->body;
  EXPECT_EQ(sampleOf(text, "ccmesh_queries_total{outcome=\"ok\"}"), kQueries);
  EXPECT_EQ(sampleOf(text, "ccmesh_query_duration_seconds_count"), kQueries);
  EXPECT_EQ(sampleOf(text, "ccmesh_workers_connected"), 1);
  EXPECT_EQ(sampleOf(text, "ccmesh_sessions{state=\"idle\"}"), 1);
  EXPECT_EQ(sampleOf(text, "ccmesh_worker_capacity{worker=\"w1\"}"),
            client_->status()->workers.at(0).capacity);
  EXPECT_NE(text.find("ccmesh_build_info{"), std::string::npos);
  EXPECT_EQ(text.find("session=\""), std::string::npos) << "no session name as a label";

  const std::string file = cluster_->dir() + "/metrics.txt";
  std::ofstream(file) << text;
  auto check = runCommand("/bin/sh", {"-c", "promtool check metrics < " + file});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(MonitoringTest, EventsStreamWhatHappensAsItHappens) {
  auto http = httpClient(cluster_->http());
  std::mutex mutex;
  std::string received;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    http.Get("/events", [&](const char* data, size_t length) {
      std::lock_guard lock(mutex);
      received.append(data, length);
      return !done.load();
    });
  });
  // The stream is open once it has counted as a watcher of the backlog: wait for an event
  // to come through rather than for a moment to pass.
  ASSERT_TRUE(waitFor([&] {
    client_->start("probe-" + std::to_string(std::rand()));
    std::lock_guard lock(mutex);
    return received.find("event: session_placed") != std::string::npos;
  }));
  ASSERT_TRUE(client_->start("s").ok());
  EXPECT_TRUE(waitFor([&] {
    std::lock_guard lock(mutex);
    return received.find("\"session\":\"s\"") != std::string::npos;
  }));
  done = true;
  ASSERT_TRUE(client_->start("last").ok());  // one more event ends the reader's callback
  reader.join();
  std::lock_guard lock(mutex);
  EXPECT_NE(received.find("id: "), std::string::npos);
  EXPECT_NE(received.find("data: {\"seq\":"), std::string::npos);
}

TEST_F(MonitoringTest, EventsOfOnePoolAreItsOwnAndItsMembers) {
  auto http = httpClient(cluster_->http());
  std::mutex mutex;
  std::string received;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    http.Get("/events?pool=p", [&](const char* data, size_t length) {
      std::lock_guard lock(mutex);
      received.append(data, length);
      return !done.load();
    });
  });
  // The stream is open once the pool's events come through; others never do.
  client::PoolCreateOptions options;
  options.size = 1;
  ASSERT_TRUE(client_->poolCreate("p", options).ok());
  ASSERT_TRUE(waitFor([&] {
    client_->poolResize("p", 2);
    std::lock_guard lock(mutex);
    return received.find("\"session\":\"p/1\"") != std::string::npos;
  }));
  ASSERT_TRUE(client_->start("outsider").ok());
  ASSERT_TRUE(client_->poolQuery("p", "hello").ok());
  EXPECT_TRUE(waitFor([&] {
    std::lock_guard lock(mutex);
    return received.find("event: query_finished") != std::string::npos;
  }));
  done = true;
  ASSERT_TRUE(client_->poolResize("p", 1).ok());  // one more event ends the reader's callback
  reader.join();
  std::lock_guard lock(mutex);
  EXPECT_EQ(received.find("outsider"), std::string::npos) << received;
}

TEST_F(MonitoringTest, WatchPrintsAWorkersLossThenItsSessionsMove) {
  cluster_->startWorker("w2");
  ASSERT_TRUE(client_->start("s").ok());
  const auto placed = client_->info("s");
  ASSERT_TRUE(placed.ok());
  const std::string from = placed->worker;
  const std::string out = cluster_->dir() + "/watch.out";
  Process watch(binaryPath("ccmesh"), {"--broker", cluster_->frontend(), "watch", "--json"}, out);
  // The watch runs once `ping` holds its id; here: once it prints the next event.
  ASSERT_TRUE(waitFor([&] {
    client_->start("probe-" + std::to_string(std::rand()));
    return watch.log().find("session_registered") != std::string::npos;
  }));
  cluster_->worker(from).signal(SIGKILL);
  // The probes move too, each in its own event: wait for the one of "s".
  const auto moved_s = [&] {
    std::istringstream lines(watch.log());
    for (std::string line; std::getline(lines, line);) {
      const auto event = Json::parse(line, nullptr, false);
      if (!event.is_discarded() && event.value("type", "") == "session_moved" &&
          event.value("session", "") == "s") {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(waitFor(moved_s)) << watch.log();
  std::istringstream lines(watch.log());
  uint64_t last_seq = 0;
  bool lost = false;
  bool moved = false;
  for (std::string line; std::getline(lines, line);) {
    const auto event = Json::parse(line, nullptr, false);
    if (event.is_discarded()) continue;
    EXPECT_GT(event["seq"].get<uint64_t>(), last_seq);
    last_seq = event["seq"];
    if (event["type"] == "worker_lost" && event["worker"] == from) lost = true;
    if (event["type"] == "session_moved" && event["session"] == "s") {
      EXPECT_TRUE(lost) << "worker_lost comes before session_moved";
      EXPECT_EQ(event["from"], from);
      moved = true;
    }
  }
  EXPECT_TRUE(moved) << watch.log();
  watch.signal(SIGINT);
  EXPECT_EQ(watch.waitExit(kEventDeadline), 0) << watch.log();
}

TEST(MonitoringTokenTest, ATokenIsRequiredWhenGivenAndElsewhereThanLoopback) {
  TempDir dir;
  const std::string token_file = dir.path() + "/token";
  std::ofstream(token_file) << "s3cret-token\n";
  Cluster cluster({"--http", "127.0.0.1:0", "--http-token-file", token_file});
  auto http = httpClient(cluster.http());
  auto refused = http.Get("/api/status");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->get_header_value("WWW-Authenticate"), "Bearer");
  http.set_bearer_token_auth("wrong");
  EXPECT_EQ(http.Get("/metrics")->status, 401);
  http.set_bearer_token_auth("s3cret-token");
  EXPECT_EQ(http.Get("/metrics")->status, 200);

  auto open = runCommand(
      binaryPath("ccmesh-broker"),
      {"--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*", "--http", "0.0.0.0:0"});
  EXPECT_EQ(open.exit_code, 2) << open.err;
  EXPECT_NE(open.err.find("--http-token-file"), std::string::npos) << open.err;
  auto bad = runCommand(binaryPath("ccmesh-broker"), {"--http", "nonsense"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("HOST:PORT"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace ccmesh::test
