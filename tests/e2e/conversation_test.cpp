// The real Claude Code CLI under a real worker: what it sends to the Messages API for the
// conversation, the session's options, and streaming.
#include <gtest/gtest.h>

#include <algorithm>

#include "real_cli_test.hpp"

namespace ccmesh::test {
namespace {

using ConversationTest = RealCliTest;

TEST_F(ConversationTest, SecondTurnCarriesTheFirstPromptAndAnswer) {
  startSession("s");
  auto first = client().query("s", "what is ccmesh");
  ASSERT_TRUE(first.ok()) << first.error().message << mesh_->logs();
  EXPECT_EQ(first->text, "reply 1 to: what is ccmesh");
  EXPECT_FALSE(first->session_id.empty());
  auto second = client().query("s", "say more");
  ASSERT_TRUE(second.ok()) << second.error().message << mesh_->logs();
  EXPECT_EQ(second->text, "reply 2 to: say more");
  EXPECT_EQ(second->session_id, first->session_id);

  auto request = mesh_->requestFor("say more");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->userPrompts(), (std::vector<std::string>{"what is ccmesh", "say more"}));
  EXPECT_EQ(request->assistantTexts(), std::vector<std::string>{"reply 1 to: what is ccmesh"});
}

// Through the `ccmesh` tool, as a user would start it.
TEST_F(ConversationTest, SystemPromptAndModelReachTheApi) {
  const std::string system_prompt = "You are the ccmesh e2e reviewer; answer in one line.";
  auto started =
      runCommand(binaryPath("ccmesh"), {"--broker", mesh_->cluster().frontend(), "start",
                                        "reviewer", "--system-prompt", system_prompt, "--model",
                                        "claude-ccmesh-e2e", "--cwd", mesh_->workDir("reviewer")});
  ASSERT_EQ(started.exit_code, 0) << started.err << mesh_->logs();
  auto reply = client().query("reviewer", "review this");
  ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();

  auto request = mesh_->requestFor("review this");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->model, "claude-ccmesh-e2e");
  EXPECT_NE(request->system.find(system_prompt), std::string::npos) << request->system;
}

TEST_F(ConversationTest, DisallowedToolsLeaveTheRequestsToolList) {
  startSession("plain");
  SessionOptions options;
  options.disallowed_tools = {"Bash"};
  startSession("no-bash", options);
  ASSERT_TRUE(client().query("plain", "which tools").ok()) << mesh_->logs();
  ASSERT_TRUE(client().query("no-bash", "which tools now").ok()) << mesh_->logs();

  auto plain = mesh_->requestFor("which tools");
  auto no_bash = mesh_->requestFor("which tools now");
  ASSERT_TRUE(plain && no_bash);
  EXPECT_TRUE(plain->hasTool("Bash"));
  EXPECT_FALSE(no_bash->hasTool("Bash"));
  EXPECT_FALSE(no_bash->tool_names.empty());
}

// The fake API holds its stream open after the first delta until the client has seen that
// delta, so a worker (or broker) that buffered the answer would only deliver its first delta
// after the stream ended.
TEST_F(ConversationTest, FirstDeltaReachesTheClientBeforeTheApiFinishesStreaming) {
  startSession("s");
  api().holdStreamsAfterFirstDelta();
  client::QueryOptions options;
  options.stream = true;
  std::string joined;
  std::size_t deltas = 0;
  std::size_t finished_at_first_delta = 1;
  auto reply =
      client().query("s", "stream a few words back to me", options, [&](const msg::Event& event) {
        EXPECT_EQ(event.kind, "delta");
        if (deltas++ == 0) {
          finished_at_first_delta = api().finishedStreams();
          api().releaseStreams();
        }
        joined += event.text;
      });
  api().releaseStreams();
  ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
  EXPECT_EQ(reply->text, "reply 1 to: stream a few words back to me");
  EXPECT_EQ(joined, reply->text);
  EXPECT_GT(deltas, 1u);
  EXPECT_EQ(finished_at_first_delta, 0u);
  EXPECT_TRUE(waitFor([&] { return api().finishedStreams() == 1; }));
}

// The answer comes back in stdout lines far longer than usual (deltas, the assistant
// message, the result), which the worker must pass on whole.
TEST_F(ConversationTest, LongAnswerArrivesWhole) {
  startSession("s");
  const std::string prompt(400u << 10, 'z');
  client::QueryOptions options;
  options.stream = true;
  std::string joined;
  auto reply =
      client().query("s", prompt, options, [&](const msg::Event& event) { joined += event.text; });
  ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
  EXPECT_EQ(reply->text, "reply 1 to: " + prompt);
  EXPECT_EQ(joined, reply->text);
}

}  // namespace
}  // namespace ccmesh::test
