// The real Claude Code CLI forks a conversation (--resume=<source> --fork-session
// --session-id=<new>) on another worker than the source's: the fork's first request to the
// Messages API carries the source's earlier turns, the source's next request does not carry
// the fork's turn, and the fork's own conversation then follows it to a third home.
#include <gtest/gtest.h>
#include <signal.h>

#include "real_cli_test.hpp"

namespace ccmesh::test {
namespace {

class ForkedConversationTest : public RealCliTest {
 protected:
  std::vector<std::string> brokerArgs() const override { return {"--heartbeat-ms", "200"}; }

  // Starts "src" on w1 with one turn, adds w2 and forks "src" as "copy" there.
  void forkOntoW2() {
    auto ack = mesh_->start("src");
    ASSERT_TRUE(ack.ok()) << ack.error().message << mesh_->logs();
    ASSERT_EQ(ack->worker, "w1");
    ASSERT_TRUE(mesh_->client().query("src", "remember the word zebra").ok()) << mesh_->logs();
    mesh_->addWorker("w2");
    SessionOptions options;
    options.cwd = mesh_->workDir("copy");
    auto forked = mesh_->client().fork("src", "copy", options);
    ASSERT_TRUE(forked.ok()) << forked.error().message << mesh_->logs();
    EXPECT_EQ(forked->worker, "w2");
  }

  // Kills w2 and waits until "copy" runs idle on w1.
  void killW2() {
    mesh_->cluster().worker("w2").signal(SIGKILL);
    ASSERT_TRUE(waitFor([&] {
      auto info = mesh_->client().info("copy");
      return info && info->worker == "w1" && info->state == "idle";
    })) << mesh_->logs();
  }

  // The user prompts of the API request whose last prompt is `prompt`.
  std::vector<std::string> promptsSentWith(const std::string& prompt) {
    auto request = mesh_->requestFor(prompt);
    return request ? request->userPrompts() : std::vector<std::string>{"(no such request)"};
  }
};

TEST_F(ForkedConversationTest,
       TheForksFirstTurnCarriesTheSourcesTurnsAndTheSourceNeverSeesTheFork) {
  forkOntoW2();

  auto reply = mesh_->client().query("copy", "which word was it");
  ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
  EXPECT_EQ(promptsSentWith("which word was it"),
            (std::vector<std::string>{"remember the word zebra", "which word was it"}))
      << mesh_->logs();
  const auto source = mesh_->client().info("src");
  ASSERT_TRUE(source.ok());
  EXPECT_FALSE(reply->session_id.empty());
  EXPECT_NE(reply->session_id, source->session_id);

  ASSERT_TRUE(mesh_->client().query("src", "the source goes on").ok()) << mesh_->logs();
  EXPECT_EQ(promptsSentWith("the source goes on"),
            (std::vector<std::string>{"remember the word zebra", "the source goes on"}))
      << mesh_->logs();

  // The fork's own conversation, history included, moves with it when its worker dies.
  killW2();
  auto moved = mesh_->client().query("copy", "and after the move");
  ASSERT_TRUE(moved.ok()) << moved.error().message << mesh_->logs();
  EXPECT_EQ(moved->session_id, reply->session_id);
  EXPECT_EQ(promptsSentWith("and after the move"),
            (std::vector<std::string>{"remember the word zebra", "which word was it",
                                      "and after the move"}))
      << mesh_->logs();
}

// Before its first turn the fork's own transcript holds none of the history (the real CLI
// writes it under the new id at the first prompt): a fork moved then forks the source again.
TEST_F(ForkedConversationTest, AForkMovedBeforeItsFirstTurnStillCarriesTheSourcesTurns) {
  forkOntoW2();
  ASSERT_TRUE(waitFor([&] {
    auto info = mesh_->client().info("copy");
    return info && info->state == "idle";
  })) << mesh_->logs();
  killW2();
  auto reply = mesh_->client().query("copy", "which word after the move");
  ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
  EXPECT_EQ(promptsSentWith("which word after the move"),
            (std::vector<std::string>{"remember the word zebra", "which word after the move"}))
      << mesh_->logs();
  auto source = mesh_->client().info("src");
  ASSERT_TRUE(source.ok());
  EXPECT_NE(reply->session_id, source->session_id);
}

}  // namespace
}  // namespace ccmesh::test
