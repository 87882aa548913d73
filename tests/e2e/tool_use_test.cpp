// A tool turn with the real Claude Code CLI: the fake API asks for a Bash command; the CLI
// runs it only when the session's allowed_tools allow it, or when whoever the session's
// permission_handler names (the querying client, the rules) says yes.
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

TEST_F(ToolUseTest, TheQueryingClientIsAskedAndItsAllowRunsTheCommand) {
  SessionOptions options;
  options.permission_handler = "client";
  startSession("s", options);
  std::vector<msg::PermissionRequest> asked;
  client::QueryOptions query;
  query.on_permission = [&](const msg::PermissionRequest& question) {
    asked.push_back(question);
    return client::PermissionAnswer::allowed();
  };
  auto reply = client().query("s", kToolPrompt, query);
  ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
  EXPECT_EQ(reply->text, "tool said: ccmesh-42");
  EXPECT_TRUE(toolRan("s"));
  ASSERT_EQ(asked.size(), 1u) << mesh_->logs();
  EXPECT_EQ(asked[0].tool_name, "Bash");
  EXPECT_NE(asked[0].input.find("touch ccmesh-tool-ran"), std::string::npos) << asked[0].input;
  // The tool_use block the fake API sent is the one asked about.
  EXPECT_EQ(asked[0].tool_use_id.rfind("toolu_", 0), 0u) << asked[0].tool_use_id;
}

TEST_F(ToolUseTest, TheClientsDenyReachesTheModelAndNothingRuns) {
  SessionOptions options;
  options.permission_handler = "client";
  startSession("s", options);
  client::QueryOptions query;
  query.on_permission = [](const msg::PermissionRequest&) {
    return client::PermissionAnswer::denied("no touching today");
  };
  auto reply = client().query("s", kToolPrompt, query);
  ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
  EXPECT_EQ(reply->text.rfind("tool error: ", 0), 0u) << reply->text;
  EXPECT_NE(reply->text.find("no touching today"), std::string::npos) << reply->text;
  EXPECT_FALSE(toolRan("s"));
}

TEST_F(ToolUseTest, AnUnansweredQuestionIsDeniedAtTheTimeout) {
  SessionOptions options;
  options.permission_handler = "client";
  options.permission_timeout_ms = 500;
  startSession("s", options);
  const uint64_t id = client().sendQuery("s", kToolPrompt);
  bool asked = false;
  std::optional<client::Incoming> final_reply;
  ASSERT_TRUE(waitFor(
      [&] {
        auto incoming = client().receive(Millis{50});
        if (incoming && incoming->type == MessageType::kPermissionRequest) asked = true;
        if (incoming && incoming->id == id && incoming->type != MessageType::kPermissionRequest) {
          final_reply = incoming;
        }
        return final_reply.has_value();
      },
      Millis{60000}))
      << mesh_->logs();
  EXPECT_TRUE(asked);
  ASSERT_EQ(final_reply->type, MessageType::kResult) << final_reply->error.message;
  EXPECT_EQ(final_reply->result.text.rfind("tool error: ", 0), 0u) << final_reply->result.text;
  EXPECT_FALSE(toolRan("s"));
}

TEST_F(ToolUseTest, PolicyRulesAllowOneCommandAndDenyAnother) {
  ReplyRules rules;
  rules.tool_marker = "ccmesh-use-tool";
  rules.tool_command = "touch ccmesh-tool-ran";
  api().setReplyRules(rules);
  SessionOptions allowing;
  allowing.permission_handler = "policy";
  allowing.permission_rules = {"allow:Bash(touch:*)"};
  startSession("allowing", allowing);
  SessionOptions denying;
  denying.permission_handler = "policy";
  denying.permission_rules = {"allow:Bash(ls:*)", "deny:Bash(touch:*)"};
  startSession("denying", denying);

  auto allowed = client().query("allowing", kToolPrompt);
  ASSERT_TRUE(allowed.ok()) << allowed.error().message << mesh_->logs();
  EXPECT_EQ(allowed->text.rfind("tool said:", 0), 0u) << allowed->text;
  EXPECT_TRUE(toolRan("allowing"));

  auto denied = client().query("denying", kToolPrompt);
  ASSERT_TRUE(denied.ok()) << denied.error().message << mesh_->logs();
  EXPECT_EQ(denied->text.rfind("tool error: ", 0), 0u) << denied->text;
  EXPECT_NE(denied->text.find("deny:Bash(touch:*)"), std::string::npos) << denied->text;
  EXPECT_FALSE(toolRan("denying"));
}

}  // namespace
}  // namespace ccmesh::test
