// Forks through the real broker and workers with the mock CLI: a session started with
// fork_of continues the source's conversation (the mock's /history and turn numbers carry
// on from it) under a conversation id of its own, on another worker than the source's, and
// the source goes on as if nothing happened. Pools can fork every member from one session.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

class ForkTest : public ::testing::Test {
 protected:
  // Brokers that notice a dead worker within a few hundred milliseconds. The source runs
  // on w1 alone, so the fork is placed on the emptier w2: its history must travel.
  void SetUp() override {
    cluster_ = std::make_unique<Cluster>(std::vector<std::string>{"--heartbeat-ms", "100"});
    cluster_->startWorker("w1");
    client_ = cluster_->client();
    auto ack = client_->start("src");
    ASSERT_TRUE(ack.ok()) << ack.error().message;
    ASSERT_EQ(answer("src", "alpha"), "turn 1: alpha");
    ASSERT_EQ(answer("src", "beta"), "turn 2: beta");
    cluster_->startWorker("w2");
  }

  // The text of a query's answer, or the error saying why there is none.
  std::string answer(const std::string& session, const std::string& prompt) {
    auto reply = client_->query(session, prompt);
    if (!reply.ok()) {
      return "error " + std::string(errorCodeName(reply.error().code)) + ": " +
             reply.error().message;
    }
    return reply->text;
  }

  // Waits until `session` is idle on `worker` (empty: on any worker).
  bool waitForIdleOn(const std::string& session, const std::string& worker = {}) {
    return waitFor([&] {
      auto info = client_->info(session);
      return info && info->state == "idle" && (worker.empty() || info->worker == worker);
    });
  }

  std::string sessionIdOf(const std::string& session) {
    auto info = client_->info(session);
    return info.ok() ? info->session_id : "";
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(ForkTest, ContinuesTheSourceConversationUnderANewIdAndLeavesTheSourceAlone) {
  const std::string source_id = sessionIdOf("src");
  ASSERT_FALSE(source_id.empty());

  auto ack = client_->fork("src", "copy");
  ASSERT_TRUE(ack.ok()) << ack.error().message << cluster_->logs();
  EXPECT_EQ(ack->worker, "w2");  // not where the source's transcript is on disk
  EXPECT_EQ(answer("copy", "gamma"), "turn 3: gamma") << cluster_->logs();
  EXPECT_EQ(answer("copy", "/history"), "alpha | beta | gamma");

  const std::string fork_id = sessionIdOf("copy");
  EXPECT_FALSE(fork_id.empty());
  EXPECT_NE(fork_id, source_id);

  // The source did not see the fork's turn, and keeps its conversation id.
  EXPECT_EQ(answer("src", "delta"), "turn 3: delta");
  EXPECT_EQ(answer("src", "/history"), "alpha | beta | delta");
  EXPECT_EQ(sessionIdOf("src"), source_id);
  EXPECT_EQ(answer("copy", "/history"), "alpha | beta | gamma | /history");
}

TEST_F(ForkTest, AForkMovesWithItsOwnConversationWhenItsWorkerDies) {
  ASSERT_TRUE(client_->fork("src", "copy").ok());
  ASSERT_EQ(answer("copy", "gamma"), "turn 3: gamma") << cluster_->logs();
  const std::string fork_id = sessionIdOf("copy");

  cluster_->worker("w2").signal(SIGKILL);
  ASSERT_TRUE(waitForIdleOn("copy", "w1")) << cluster_->logs();
  EXPECT_EQ(answer("copy", "/history"), "alpha | beta | gamma") << cluster_->logs();
  EXPECT_EQ(sessionIdOf("copy"), fork_id);
  EXPECT_EQ(answer("src", "/history"), "alpha | beta");
}

TEST_F(ForkTest, AForkWhoseWorkerDiesBeforeItsFirstTurnForksAgain) {
  ASSERT_TRUE(client_->fork("src", "copy").ok());
  ASSERT_TRUE(waitForIdleOn("copy")) << cluster_->logs();

  cluster_->worker("w2").signal(SIGKILL);
  ASSERT_TRUE(waitForIdleOn("copy", "w1")) << cluster_->logs();
  EXPECT_EQ(answer("copy", "gamma"), "turn 3: gamma") << cluster_->logs();
  EXPECT_NE(sessionIdOf("copy"), sessionIdOf("src"));
  EXPECT_EQ(answer("src", "/history"), "alpha | beta");
}

TEST_F(ForkTest, RefusesAnUnknownSourceASourceWithNoTurnAndATakenName) {
  auto unknown = client_->fork("nobody", "copy");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_NE(unknown.error().message.find("nobody"), std::string::npos);

  ASSERT_TRUE(client_->start("fresh").ok());
  auto empty = client_->fork("fresh", "copy");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(empty.error().message.find("no turn yet"), std::string::npos);

  auto taken = client_->fork("src", "fresh");
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);

  // None of the refused forks registered a name.
  EXPECT_EQ(client_->info("copy").error().code, ErrorCode::kNotFound);
}

TEST_F(ForkTest, APoolForkedFromOneSessionStartsEveryMemberWithItsContext) {
  client::PoolCreateOptions options;
  options.size = 3;
  options.fork_of = "src";
  auto pool = client_->poolCreate("team", options);
  ASSERT_TRUE(pool.ok()) << pool.error().message;
  ASSERT_EQ(pool->members.size(), 3u);
  for (const auto& member : pool->members) {
    EXPECT_EQ(answer(member.name, "/history"), "alpha | beta") << member.name;
    EXPECT_NE(sessionIdOf(member.name), sessionIdOf("src"));
  }
  auto reply = client_->poolQuery("team", "gamma");
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->text, "turn 4: gamma");  // after alpha, beta and /history

  // Members it adds later fork the source as it is then.
  ASSERT_EQ(answer("src", "delta"), "turn 3: delta");
  ASSERT_TRUE(client_->poolResize("team", 4).ok());
  EXPECT_EQ(answer("team/3", "/history"), "alpha | beta | delta");

  client::PoolCreateOptions grouped;
  grouped.members = {"src"};
  grouped.fork_of = "src";
  auto refused = client_->poolCreate("grouped", grouped);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBadRequest);
}

}  // namespace
}  // namespace ccmesh::test
