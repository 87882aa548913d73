// Supervision through the real worker: crashes, restarts, deadlines, cancel, clean stops.
#include <gtest/gtest.h>
#include <signal.h>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

class SupervisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<Cluster>();
    cluster_->startWorker("w1");
    client_ = cluster_->client();
  }

  void startSession(const std::string& name, SessionOptions options = {}) {
    auto ack = client_->start(name, options);
    ASSERT_TRUE(ack.ok()) << ack.error().message << cluster_->logs();
  }

  // Waits until the session is idle with a CLI other than `old_pid`, and returns its pid.
  pid_t waitForNewCli(const std::string& name, int64_t old_pid) {
    int64_t pid = 0;
    EXPECT_TRUE(waitFor([&] {
      auto info = client_->info(name);
      if (!info || info->state != "idle" || info->pid == old_pid) return false;
      pid = info->pid;
      return true;
    })) << cluster_->logs();
    return static_cast<pid_t>(pid);
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(SupervisionTest, CrashMidTurnEndsWithPartialOutputAndKeepsHistory) {
  startSession("s");
  ASSERT_TRUE(client_->query("s", "one").ok());
  ASSERT_TRUE(client_->query("s", "two").ok());
  auto crashed = client_->query("s", "/crash");
  ASSERT_FALSE(crashed.ok());
  EXPECT_EQ(crashed.error().code, ErrorCode::kSessionCrashed);
  EXPECT_EQ(crashed.error().partial, "partial before crash");
  // The next prompt waits for the restart and sees the whole conversation.
  auto history = client_->query("s", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message << cluster_->logs();
  EXPECT_EQ(history->text, "one | two | /crash");
  auto info = client_->info("s");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->restarts, 1u);
}

TEST_F(SupervisionTest, KilledCliBetweenTurnsComesBackWithHistory) {
  startSession("s");
  ASSERT_TRUE(client_->query("s", "remember me").ok());
  auto info = client_->info("s");
  ASSERT_TRUE(info.ok());
  ASSERT_GT(info->pid, 0);
  ASSERT_EQ(::kill(static_cast<pid_t>(info->pid), SIGKILL), 0);
  // A prompt racing the kill could reach the dying process and end as session_crashed
  // (at most once); "between turns" means after the worker has seen the death.
  waitForNewCli("s", info->pid);
  auto reply = client_->query("s", "/history");
  ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
  EXPECT_EQ(reply->text, "remember me");
  auto after = client_->info("s");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->pid, info->pid);
  EXPECT_EQ(after->session_id, info->session_id);
}

TEST_F(SupervisionTest, TooManyCrashesMarkTheSessionFailedUntilRestarted) {
  SessionOptions options;
  options.max_restarts = 2;
  startSession("s", options);
  for (int i = 0; i < 3; ++i) {
    auto crashed = client_->query("s", "/crash");
    ASSERT_FALSE(crashed.ok());
    EXPECT_EQ(crashed.error().code, ErrorCode::kSessionCrashed) << crashed.error().message;
  }
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info("s");
    return info && info->state == "failed";
  })) << cluster_->logs();
  auto info = client_->info("s");
  ASSERT_TRUE(info.ok());
  EXPECT_NE(info->last_error.find("3"), std::string::npos) << info->last_error;
  EXPECT_NE(info->last_error.find("crashing as asked"), std::string::npos) << info->last_error;

  auto refused = client_->query("s", "hello");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kSessionFailed);

  auto restarted = client_->restart("s");
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  auto reply = client_->query("s", "hello again");
  ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
  EXPECT_EQ(reply->text, "turn 1: hello again");
}

TEST_F(SupervisionTest, DeadlineInterruptsAHungTurnAndTheNextPromptGetsItsOwnAnswer) {
  startSession("s");
  client::QueryOptions options;
  options.timeout = Millis(500);
  auto hung = client_->query("s", "/hang", options);
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.error().code, ErrorCode::kTimeout);
  auto next = client_->query("s", "after the hang");
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->text, "turn 2: after the hang");
}

TEST_F(SupervisionTest, SessionQueryTimeoutIsTheDefaultDeadline) {
  SessionOptions options;
  options.query_timeout_ms = 300;
  startSession("s", options);
  auto slow = client_->query("s", "/sleep 5000");
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code, ErrorCode::kTimeout);
  EXPECT_FALSE(slow.error().partial.empty());
  auto next = client_->query("s", "quick");
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->text, "turn 2: quick");
}

TEST_F(SupervisionTest, CancelStopsARunningTurnWithItsPartialOutput) {
  startSession("s");
  client::QueryOptions options;
  options.stream = true;
  bool saw_delta = false;
  options.should_cancel = [&] { return saw_delta; };
  auto reply =
      client_->query("s", "/sleep 10000", options, [&](const msg::Event&) { saw_delta = true; });
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, ErrorCode::kCancelled);
  EXPECT_FALSE(reply.error().partial.empty());
  auto next = client_->query("s", "next");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->text, "turn 2: next");
}

TEST_F(SupervisionTest, RestartOfABusySessionCancelsTheTurnAndStartsAFreshConversation) {
  startSession("s");
  ASSERT_TRUE(client_->query("s", "old conversation").ok());
  auto before = client_->info("s");
  ASSERT_TRUE(before.ok());
  uint64_t busy = client_->sendQuery("s", "/hang");
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info("s");
    return info && info->state == "busy";
  }));
  auto restarted = client_->restart("s");
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  auto cancelled = client_->receive(kEventDeadline);
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->id, busy);
  EXPECT_EQ(cancelled->error.code, ErrorCode::kCancelled);
  auto history = client_->query("s", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message;
  EXPECT_EQ(history->text, "(none)");
  auto after = client_->info("s");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->session_id, before->session_id);
}

TEST_F(SupervisionTest, RestartKeepingHistoryResumesTheConversation) {
  startSession("s");
  ASSERT_TRUE(client_->query("s", "keep this").ok());
  auto before = client_->info("s");
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(client_->restart("s", /*keep_history=*/true).ok());
  auto history = client_->query("s", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message;
  EXPECT_EQ(history->text, "keep this");
  auto after = client_->info("s");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->session_id, before->session_id);
  EXPECT_NE(after->pid, before->pid);
}

TEST_F(SupervisionTest, KilledWorkerLeavesNoCliProcessBehind) {
  for (int i = 0; i < 3; ++i) startSession("s" + std::to_string(i));
  std::vector<pid_t> clis;
  ASSERT_TRUE(waitFor([&] {
    clis.clear();
    auto list = client_->list();
    if (!list) return false;
    for (const auto& s : *list) {
      if (s.pid > 0) clis.push_back(static_cast<pid_t>(s.pid));
    }
    return clis.size() == 3;
  }));
  // A process the CLI started (as a tool would) shares its process group.
  auto spawned = client_->query("s0", "/spawn");
  ASSERT_TRUE(spawned.ok()) << spawned.error().message;
  const pid_t grandchild = static_cast<pid_t>(std::stol(spawned->text));
  ASSERT_TRUE(processExists(grandchild));
  clis.push_back(grandchild);
  auto& worker = cluster_->worker("w1");
  std::vector<pid_t> children = childrenOf(worker.pid());
  EXPECT_GE(children.size(), 3u);
  worker.signal(SIGKILL);
  ASSERT_NE(worker.waitExit(kEventDeadline), -1);
  EXPECT_TRUE(waitFor([&] {
    for (pid_t pid : clis) {
      if (processExists(pid)) return false;
    }
    for (pid_t pid : children) {
      if (processExists(pid)) return false;
    }
    return true;
  })) << "CLI processes survived their worker";
}

TEST_F(SupervisionTest, TerminateStopsWhatTheCliStarted) {
  startSession("s");
  auto spawned = client_->query("s", "/spawn");
  ASSERT_TRUE(spawned.ok()) << spawned.error().message;
  const pid_t grandchild = static_cast<pid_t>(std::stol(spawned->text));
  ASSERT_TRUE(processExists(grandchild));
  ASSERT_TRUE(client_->terminate("s").ok());
  EXPECT_TRUE(waitFor([&] { return !processExists(grandchild); }));
}

TEST_F(SupervisionTest, StoppedWorkerStopsItsSessionsGently) {
  startSession("s");
  ASSERT_TRUE(client_->query("s", "hi").ok());
  auto info = client_->info("s");
  ASSERT_TRUE(info.ok());
  auto& worker = cluster_->worker("w1");
  worker.signal(SIGTERM);
  int status = worker.waitExit(kEventDeadline);
  ASSERT_NE(status, -1);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(processExists(static_cast<pid_t>(info->pid)));
  EXPECT_TRUE(cluster_->waitForWorkers(0));
}

}  // namespace
}  // namespace ccmesh::test
