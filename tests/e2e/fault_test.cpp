// Faults with the real Claude Code CLI: a deadline on a slow stream, a killed CLI, an API
// that fails.
#include <gtest/gtest.h>
#include <signal.h>

#include "real_cli_test.hpp"

namespace ccmesh::test {
namespace {

using FaultTest = RealCliTest;

// The stream is slow and then stalls after its first delta, so the deadline passes in the
// middle of it however long the CLI took to send its request (a loaded machine).
TEST_F(FaultTest, DeadlineOnASlowStreamTimesOutAndTheNextPromptGetsItsOwnAnswer) {
  startSession("s");
  api().setDeltaDelay(Millis(100));
  api().holdStreamsAfterFirstDelta();
  const std::string slow_prompt = "take your time";
  client::QueryOptions options;
  options.timeout = Millis(4000);
  auto slow = client().query("s", slow_prompt, options);
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code, ErrorCode::kTimeout) << slow.error().message;
  const std::string answer = "reply 1 to: " + slow_prompt;
  EXPECT_EQ(answer.rfind(slow.error().partial, 0), 0u) << slow.error().partial;
  // The worker interrupted the CLI, which dropped its request: the released stream finds
  // nobody listening.
  api().setDeltaDelay(Millis(0));
  api().releaseStreams();
  EXPECT_TRUE(api().waitForAbandonedStreams(1, kEventDeadline)) << mesh_->logs();
  EXPECT_EQ(api().finishedStreams(), 0u);

  auto next = client().query("s", "and now quickly");
  ASSERT_TRUE(next.ok()) << next.error().message << mesh_->logs();
  EXPECT_EQ(next->text, "reply 2 to: and now quickly");
}

TEST_F(FaultTest, KilledCliIsResumedWithTheWholeConversation) {
  startSession("s");
  ASSERT_TRUE(client().query("s", "remember the number seven").ok()) << mesh_->logs();
  ASSERT_TRUE(client().query("s", "and the colour blue").ok()) << mesh_->logs();
  auto before = client().info("s");
  ASSERT_TRUE(before.ok());
  ASSERT_GT(before->pid, 0);
  ASSERT_EQ(::kill(static_cast<pid_t>(before->pid), SIGKILL), 0);
  // "Between turns": wait until the worker has noticed and runs a new CLI.
  ASSERT_TRUE(waitFor([&] {
    auto info = client().info("s");
    return info && info->state == "idle" && info->pid > 0 && info->pid != before->pid;
  })) << mesh_->logs();

  auto reply = client().query("s", "what did I ask you to remember");
  ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
  EXPECT_EQ(reply->text, "reply 3 to: what did I ask you to remember");
  auto request = mesh_->requestFor("what did I ask you to remember");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->userPrompts(),
            (std::vector<std::string>{"remember the number seven", "and the colour blue",
                                      "what did I ask you to remember"}));
  EXPECT_EQ(request->assistantTexts(),
            (std::vector<std::string>{"reply 1 to: remember the number seven",
                                      "reply 2 to: and the colour blue"}));
  auto after = client().info("s");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->session_id, before->session_id);
  EXPECT_GE(after->restarts, 1u);
}

TEST_F(FaultTest, OverloadedApiIsAnErrorNamingItAndTheSessionKeepsWorking) {
  startSession("s");
  api().failNext(1, 529);
  auto failed = client().query("s", "are you there");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable) << failed.error().message;
  EXPECT_NE(failed.error().message.find("529"), std::string::npos) << failed.error().message;
  EXPECT_NE(failed.error().message.find("Overloaded"), std::string::npos) << failed.error().message;

  auto next = client().query("s", "try again");
  ASSERT_TRUE(next.ok()) << next.error().message << mesh_->logs();
  EXPECT_EQ(next->text.rfind("reply ", 0), 0u) << next->text;
  EXPECT_NE(next->text.find(" to: try again"), std::string::npos) << next->text;
  auto info = client().info("s");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->restarts, 0u);
}

}  // namespace
}  // namespace ccmesh::test
