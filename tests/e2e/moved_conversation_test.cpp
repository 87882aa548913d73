// The real Claude Code CLI continues a conversation on another worker: the transcript it
// mirrored went through the broker into the new worker's CLAUDE_CONFIG_DIR, so the first
// request to the Messages API after the move carries the earlier turns.
#include <gtest/gtest.h>
#include <signal.h>

#include "real_cli_test.hpp"

namespace ccmesh::test {
namespace {

class MovedConversationTest : public RealCliTest {
 protected:
  std::vector<std::string> brokerArgs() const override { return {"--heartbeat-ms", "200"}; }

  // Starts "s" on w1, adds w2 and has two turns.
  void twoTurnsOnW1() {
    auto ack = mesh_->start("s");
    ASSERT_TRUE(ack.ok()) << ack.error().message << mesh_->logs();
    ASSERT_EQ(ack->worker, "w1");
    mesh_->addWorker("w2");
    ASSERT_TRUE(mesh_->client().query("s", "remember the number seven").ok()) << mesh_->logs();
    ASSERT_TRUE(mesh_->client().query("s", "and the colour blue").ok()) << mesh_->logs();
    // What mirroring costs: transcript bytes per turn (in the test's XML report).
    auto info = mesh_->client().info("s");
    ASSERT_TRUE(info.ok());
    EXPECT_GT(info->transcript_entries, 0u);
    RecordProperty("transcript_bytes_per_turn", std::to_string(info->transcript_bytes / 2));
  }

  // Asks on the new worker and checks what the API was sent.
  void expectWholeConversationOn(const std::string& worker) {
    const std::size_t before = mesh_->api().requestCount();
    auto reply = mesh_->client().query("s", "what did I ask you to remember");
    ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
    EXPECT_EQ(reply->worker, worker);
    EXPECT_EQ(reply->text, "reply 3 to: what did I ask you to remember");
    const auto requests = mesh_->api().requests();
    ASSERT_GT(requests.size(), before);
    const auto& first_after = requests[before];
    EXPECT_EQ(first_after.userPrompts(),
              (std::vector<std::string>{"remember the number seven", "and the colour blue",
                                        "what did I ask you to remember"}))
        << mesh_->logs();
    EXPECT_EQ(first_after.assistantTexts(),
              (std::vector<std::string>{"reply 1 to: remember the number seven",
                                        "reply 2 to: and the colour blue"}));
  }
};

TEST_F(MovedConversationTest, MoveCarriesTheEarlierTurnsToTheNewWorkersCli) {
  twoTurnsOnW1();
  auto moved = mesh_->client().move("s", "w2");
  ASSERT_TRUE(moved.ok()) << moved.error().message << mesh_->logs();
  EXPECT_EQ(moved->worker, "w2");
  expectWholeConversationOn("w2");
}

TEST_F(MovedConversationTest, KilledWorkersConversationContinuesOnTheNewWorker) {
  twoTurnsOnW1();
  mesh_->cluster().worker("w1").signal(SIGKILL);
  ASSERT_TRUE(waitFor([&] {
    auto info = mesh_->client().info("s");
    return info && info->worker == "w2" && info->state == "idle";
  })) << mesh_->logs();
  expectWholeConversationOn("w2");
}

}  // namespace
}  // namespace ccmesh::test
