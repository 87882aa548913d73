// Idle sessions through the real broker and worker: on-demand start, hibernation after an
// idle timeout, the live-process budget (--max-live), recycling a CLI that grew too large,
// and a hibernated session moving off a dead worker.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

// The CLIs a worker runs now: its children whose command line names the mock CLI (the
// worker's other child, its group keeper, is a copy of the worker itself).
std::vector<pid_t> cliProcessesOf(pid_t worker) {
  std::vector<pid_t> clis;
  for (pid_t child : childrenOf(worker)) {
    std::ifstream file("/proc/" + std::to_string(child) + "/cmdline");
    std::string argv0;
    std::getline(file, argv0, '\0');
    if (argv0.find("ccmesh-mock-cli") != std::string::npos) clis.push_back(child);
  }
  return clis;
}

SessionOptions onDemand() {
  SessionOptions options;
  options.start = std::string(SessionOptions::kStartOnDemand);
  return options;
}

const msg::WorkerInfo* findWorker(const msg::StatusResult& status, const std::string& id) {
  for (const auto& worker : status.workers) {
    if (worker.id == id) return &worker;
  }
  return nullptr;
}

class IdleSessionsTest : public ::testing::Test {
 protected:
  // A cluster whose brokers notice a dead worker within a few hundred milliseconds.
  void SetUp() override {
    cluster_ = std::make_unique<Cluster>(std::vector<std::string>{"--heartbeat-ms", "100"});
  }

  Process& startWorker(const std::string& id, std::vector<std::string> args = {}) {
    Process& worker = cluster_->startWorker(id, std::move(args));
    client_ = cluster_->client();
    return worker;
  }

  void start(const std::string& name, const SessionOptions& options) {
    auto ack = client_->start(name, options);
    ASSERT_TRUE(ack.ok()) << ack.error().message << cluster_->logs();
  }

  // Waits until `name` reports `state` with no CLI process.
  void waitForHibernated(const std::string& name) {
    ASSERT_TRUE(waitFor([&] {
      auto info = client_->info(name);
      return info && info->state == "hibernated" && info->pid == 0;
    })) << name
        << " did not hibernate\n"
        << cluster_->logs();
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(IdleSessionsTest, OnDemandSessionsHaveNoProcessUntilQueried) {
  Process& worker = startWorker("w1");
  // One through the tool, the others through the client library.
  auto tool = runCommand(binaryPath("ccmesh"),
                         {"--broker", cluster_->frontend(), "start", "s0", "--start", "on_demand"});
  ASSERT_EQ(tool.exit_code, 0) << tool.err;
  EXPECT_NE(tool.out.find("state hibernated"), std::string::npos) << tool.out;
  for (int i = 1; i < 10; ++i) start("s" + std::to_string(i), onDemand());
  for (int i = 0; i < 10; ++i) {
    auto info = client_->info("s" + std::to_string(i));
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->state, "hibernated");
    EXPECT_EQ(info->pid, 0);
    EXPECT_FALSE(info->session_id.empty());
    EXPECT_EQ(info->config.start, "on_demand");
  }
  EXPECT_TRUE(cliProcessesOf(worker.pid()).empty());

  for (int i = 0; i < 3; ++i) {
    auto reply = client_->query("s" + std::to_string(i), "wake up");
    ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
    EXPECT_EQ(reply->text, "turn 1: wake up");
  }
  std::set<pid_t> expected;
  for (int i = 0; i < 3; ++i) {
    auto info = client_->info("s" + std::to_string(i));
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->state, "idle");
    EXPECT_GT(info->pid, 0);
    EXPECT_GT(info->rss_kb, 0u);
    expected.insert(static_cast<pid_t>(info->pid));
  }
  auto clis = cliProcessesOf(worker.pid());
  EXPECT_EQ(std::set<pid_t>(clis.begin(), clis.end()), expected);
  EXPECT_EQ(client_->info("s5")->pid, 0);
  // The broker hears the counts within its `load` interval.
  EXPECT_TRUE(waitFor([&] {
    auto status = client_->status();
    const auto* w1 = status ? findWorker(*status, "w1") : nullptr;
    return w1 && w1->live == 3 && w1->hibernated == 7 && w1->max_live == 0;
  })) << cluster_->logs();
}

TEST_F(IdleSessionsTest, IdleTimeoutHibernatesAndTheNextQueryKeepsTheHistory) {
  startWorker("w1");
  SessionOptions options;
  options.idle_timeout_ms = 300;
  start("s", options);
  ASSERT_TRUE(client_->query("s", "one").ok());
  // The CLI answers its own pid: taken from the turn itself, it cannot race the 300 ms
  // timeout the way a later `info` can on a loaded machine (the session may be hibernated
  // by then).
  auto answered = client_->query("s", "/pid");
  ASSERT_TRUE(answered.ok()) << answered.error().message;
  const pid_t cli_pid = static_cast<pid_t>(std::stol(answered->text));
  ASSERT_GT(cli_pid, 0);
  const std::string session_id = answered->session_id;
  ASSERT_FALSE(session_id.empty());

  waitForHibernated("s");
  EXPECT_TRUE(waitFor([&] { return !processExists(cli_pid); }));
  auto reply = client_->query("s", "/history");
  ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
  EXPECT_EQ(reply->text, "one | /pid");
  auto after = client_->info("s");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->session_id, session_id);
  EXPECT_NE(after->pid, static_cast<int64_t>(cli_pid));
  EXPECT_EQ(after->restarts, 0u);
  EXPECT_EQ(after->turns, 3u);
}

TEST_F(IdleSessionsTest, WorkerIdleTimeoutAppliesToSessionsThatSetNone) {
  startWorker("w1", {"--idle-timeout-ms", "300"});
  start("s", {});
  ASSERT_TRUE(client_->query("s", "remember").ok());
  waitForHibernated("s");
  auto reply = client_->query("s", "/history");
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->text, "remember");
}

TEST_F(IdleSessionsTest, MaxLiveKeepsAtMostThatManyClisWhileEverySessionKeepsItsHistory) {
  constexpr int kSessions = 40;
  constexpr int kRounds = 3;
  Process& worker = startWorker("w1", {"--max-live", "4", "--capacity", "64"});
  for (int i = 0; i < kSessions; ++i) start("s" + std::to_string(i), onDemand());

  // Samples the process table while the rounds run.
  std::atomic<bool> sampling{true};
  std::atomic<std::size_t> most{0};
  std::atomic<int> samples{0};
  std::thread sampler([&] {
    for (int i = 0; i < 20000 && sampling; ++i) {
      const std::size_t now = cliProcessesOf(worker.pid()).size();
      if (now > most) most = now;
      ++samples;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  for (int round = 1; round <= kRounds; ++round) {
    // Every session gets a prompt at once: 4 run, 36 wait for a live slot.
    std::map<uint64_t, int> session_of;
    for (int i = 0; i < kSessions; ++i) {
      const std::string prompt = "s" + std::to_string(i) + " round " + std::to_string(round);
      session_of[client_->sendQuery("s" + std::to_string(i), prompt)] = i;
    }
    int answered = 0;
    while (answered < kSessions) {
      auto incoming = client_->receive(kEventDeadline);
      ASSERT_TRUE(incoming.has_value()) << "round " << round << ": " << answered << " answered\n"
                                        << cluster_->logs();
      if (incoming->type == MessageType::kEvent) continue;
      ASSERT_EQ(incoming->type, MessageType::kResult) << incoming->error.message;
      const int i = session_of.at(incoming->id);
      EXPECT_EQ(incoming->result.text, "turn " + std::to_string(round) + ": s" + std::to_string(i) +
                                           " round " + std::to_string(round));
      ++answered;
    }
  }
  for (int i = 0; i < kSessions; ++i) {
    auto reply = client_->query("s" + std::to_string(i), "/history");
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    const std::string s = "s" + std::to_string(i);
    EXPECT_EQ(reply->text, s + " round 1 | " + s + " round 2 | " + s + " round 3");
  }
  sampling = false;
  sampler.join();
  EXPECT_GT(samples.load(), 0);
  EXPECT_GE(most.load(), 1u);
  EXPECT_LE(most.load(), 4u) << "more CLI processes than --max-live at once";
  EXPECT_LE(cliProcessesOf(worker.pid()).size(), 4u);
  auto status = client_->status();
  ASSERT_TRUE(status.ok());
  const auto* w1 = findWorker(*status, "w1");
  ASSERT_NE(w1, nullptr);
  EXPECT_EQ(w1->max_live, 4u);
  EXPECT_LE(w1->live, 4u);
}

TEST_F(IdleSessionsTest, ACliOverMaxRssIsRecycledBetweenTurnsWithItsHistory) {
  startWorker("w1");
  SessionOptions options;
  options.max_rss_mb = 24;  // the mock CLI holds a few MB; /grow 40 takes it well past
  start("s", options);
  ASSERT_TRUE(client_->query("s", "before").ok());
  auto small = client_->info("s");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->recycles, 0u);

  auto grown = client_->query("s", "/grow 40");
  ASSERT_TRUE(grown.ok()) << grown.error().message;
  EXPECT_EQ(grown->text, "turn 2: /grow 40");
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info("s");
    return info && info->recycles == 1 && info->state == "idle" && info->pid != small->pid;
  })) << cluster_->logs();
  auto reply = client_->query("s", "/history");
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->text, "before | /grow 40");
  auto info = client_->info("s");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->restarts, 0u);
  EXPECT_EQ(info->session_id, small->session_id);
  EXPECT_LT(info->rss_kb, 24u * 1024);
}

TEST_F(IdleSessionsTest, AHibernatedSessionMovesOffADeadWorkerLikeAnyOther) {
  Process& w1 = startWorker("w1");
  SessionOptions options = onDemand();
  options.idle_timeout_ms = 300;
  start("s", options);
  ASSERT_TRUE(client_->query("s", "on w1").ok());
  waitForHibernated("s");
  startWorker("w2");
  w1.signal(SIGKILL);
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info("s");
    return info && info->worker == "w2" && info->state == "hibernated";
  })) << cluster_->logs();
  // The conversation came along through the broker: the new home resumes it.
  auto reply = client_->query("s", "/history");
  ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
  EXPECT_EQ(reply->text, "on w1");
  auto next = client_->query("s", "on w2");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->text, "turn 3: on w2");
}

}  // namespace
}  // namespace ccmesh::test
