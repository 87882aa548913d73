// A tool turn with the real Claude Code CLI: the fake API asks for a Bash command; the CLI
// runs it only when the session's allowed_tools allow it.
//
// The command creates a file: Claude Code runs read-only commands such as a bare `echo`
// without asking, so only a command that changes something shows whether the permission
// rules reached the CLI. The file proves whether anything was executed.
#include <gtest/gtest.h>

#include <filesystem>

#include "real_cli_test.hpp"

namespace ccmesh::test {
namespace {

constexpr const char* kToolPrompt = "please ccmesh-use-tool now";

class ToolUseTest : public RealCliTest {
 protected:
  void SetUp() override {
    RealCliTest::SetUp();
    if (IsSkipped()) return;
    ReplyRules rules;
    rules.tool_marker = "ccmesh-use-tool";
    rules.tool_command = "touch ccmesh-tool-ran && echo ccmesh-$((6*7))";
    api().setReplyRules(rules);
  }

  bool toolRan(const std::string& session) const {
    return std::filesystem::exists(mesh_->workDir(session) + "/ccmesh-tool-ran");
  }
};

TEST_F(ToolUseTest, AllowedToolRunsAndTheAnswerQuotesItsOutput) {
  SessionOptions options;
  options.allowed_tools = {"Bash(touch:*)"};
  startSession("s", options);
  auto reply = client().query("s", kToolPrompt);
  ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
  EXPECT_EQ(reply->text, "tool said: ccmesh-42");
  EXPECT_TRUE(toolRan("s"));
  // The tool call and its result made two API requests of one turn.
  auto follow_up = api().requests().back();
  ASSERT_FALSE(follow_up.lastToolResults().empty());
  EXPECT_FALSE(follow_up.lastToolResults().back().is_error);
}

TEST_F(ToolUseTest, ToolThatIsNotAllowedIsRefusedAndNothingRuns) {
  startSession("s");
  auto reply = client().query("s", kToolPrompt);
  ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
  EXPECT_EQ(reply->text.rfind("tool error: ", 0), 0u) << reply->text;
  EXPECT_EQ(reply->text.find("ccmesh-42"), std::string::npos) << reply->text;
  EXPECT_FALSE(toolRan("s"));
  // The session goes on normally.
  auto next = client().query("s", "thanks anyway");
  ASSERT_TRUE(next.ok()) << next.error().message << mesh_->logs();
  EXPECT_EQ(next->text, "reply 2 to: thanks anyway");
}

}  // namespace
}  // namespace ccmesh::test
