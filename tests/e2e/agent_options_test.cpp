// Session options that shape what the agent does, proven against the fake Messages API with
// the real Claude Code CLI: what each one changes in the requests the CLI sends, or in the
// answer the client gets.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "real_cli_test.hpp"

namespace ccmesh::test {
namespace {

using Json = nlohmann::json;

// A stdio MCP server with one tool, `say`: JSON-RPC lines on stdin and stdout.
constexpr const char* kEchoMcpServer = R"PY(import json, sys
for line in sys.stdin:
    message = json.loads(line)
    method, ident = message.get("method"), message.get("id")
    if ident is None:
        continue
    if method == "initialize":
        result = {"protocolVersion": message["params"].get("protocolVersion", "2025-06-18"),
                  "capabilities": {"tools": {}}, "serverInfo": {"name": "echo", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": [{"name": "say", "description": "Says the text back",
                             "inputSchema": {"type": "object",
                                             "properties": {"text": {"type": "string"}}}}]}
    elif method == "tools/call":
        text = message["params"].get("arguments", {}).get("text", "")
        result = {"content": [{"type": "text", "text": "echo: " + text}]}
    else:
        reply = {"jsonrpc": "2.0", "id": ident, "error": {"code": -32601, "message": "no"}}
        print(json.dumps(reply), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": ident, "result": result}), flush=True)
)PY";

class AgentOptionsTest : public RealCliTest {
 protected:
  // MCP servers are programs this worker starts: it must allow them.
  std::vector<std::string> workerArgs() const override { return {"--allow-mcp-commands"}; }

  // The body of the last Messages API request whose last prompt is `prompt`.
  Json lastRequestFor(const std::string& prompt) {
    auto request = mesh_->requestFor(prompt);
    EXPECT_TRUE(request.has_value()) << "no request for " << prompt << mesh_->logs();
    return request ? Json::parse(request->body) : Json();
  }
};

TEST_F(AgentOptionsTest, EffortReachesTheApi) {
  SessionOptions options;
  options.effort = "low";
  startSession("s", options);
  ASSERT_TRUE(client().query("s", "how hard").ok()) << mesh_->logs();
  EXPECT_EQ(lastRequestFor("how hard")["output_config"]["effort"], "low");
}

TEST_F(AgentOptionsTest, SettingsReachTheCli) {
  SessionOptions options;
  options.settings = R"({"model":"claude-from-settings"})";
  options.setting_sources = {"user"};
  startSession("s", options);
  ASSERT_TRUE(client().query("s", "which model").ok()) << mesh_->logs();
  EXPECT_EQ(lastRequestFor("which model")["model"], "claude-from-settings");
}

TEST_F(AgentOptionsTest, CustomAgentsAreOfferedToTheModel) {
  SessionOptions options;
  options.agents = R"({"reviewer":{"description":"Reviews ccmesh code","prompt":"Review."}})";
  startSession("s", options);
  ASSERT_TRUE(client().query("s", "who can help").ok()) << mesh_->logs();
  auto request = mesh_->requestFor("who can help");
  ASSERT_TRUE(request.has_value());
  EXPECT_TRUE(request->mentions("reviewer: Reviews ccmesh code")) << request->body.substr(0, 4000);
}

TEST_F(AgentOptionsTest, JsonSchemaReturnsAStructuredValue) {
  SessionOptions options;
  options.json_schema =
      R"({"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]})";
  startSession("s", options);
  auto reply = client().query("s", "answer me");
  ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
  EXPECT_EQ(Json::parse(reply->structured), Json({{"answer", "reply 1 to: answer me"}}));
  EXPECT_TRUE(lastRequestFor("answer me")["tools"].dump().find("StructuredOutput") !=
              std::string::npos);
}

TEST_F(AgentOptionsTest, ASpentBudgetEndsTheQueryWithBudgetExhausted) {
  SessionOptions options;
  options.max_budget_usd = 0.0000001;  // less than any turn costs
  startSession("s", options);
  auto spent = client().query("s", "expensive");
  ASSERT_FALSE(spent.ok()) << spent->text;
  EXPECT_EQ(spent.error().code, ErrorCode::kBudgetExhausted) << spent.error().message;
  EXPECT_NE(spent.error().message.find("budget"), std::string::npos) << spent.error().message;
  const auto before = api().requests().size();
  auto again = client().query("s", "more");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kBudgetExhausted);
  EXPECT_EQ(api().requests().size(), before) << "a spent budget sends no more requests";
}

TEST_F(AgentOptionsTest, CostAddsUpAcrossTurnsAndTheClustersBudgetStopsTheSession) {
  // The CLI's total_cost_usd is what its process spent so far: each answer says what its own
  // turn cost, and the session's usage adds the turns up.
  startSession("s");
  double answered = 0;
  for (int i = 0; i < 3; ++i) {
    auto reply = client().query("s", "turn " + std::to_string(i));
    ASSERT_TRUE(reply.ok()) << reply.error().message << mesh_->logs();
    EXPECT_GT(reply->cost_usd, 0);
    if (i > 0) {
      EXPECT_LT(reply->cost_usd, 1.5 * answered / i) << "a turn's cost, not a total";
    }
    answered += reply->cost_usd;
  }
  auto info = client().info("s");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->usage.turns, 3u);
  EXPECT_NEAR(info->usage.cost_usd, answered, 1e-9);
  EXPECT_GT(info->usage.input_tokens, 0u);

  // A budget below what was spent: the broker refuses at once, and the API sees nothing.
  ASSERT_TRUE(client().budget("s", 0, /*set_usd=*/answered / 2).ok());
  const auto before = api().requests().size();
  auto refused = client().query("s", "over budget");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBudgetExhausted) << refused.error().message;
  EXPECT_EQ(api().requests().size(), before);
  ASSERT_TRUE(client().budget("s", /*add_usd=*/answered).ok());
  EXPECT_TRUE(client().query("s", "within budget").ok());
}

TEST_F(AgentOptionsTest, AnMcpServersToolReachesTheModel) {
  const std::string server = mesh_->workDir("mcp") + "/echo_mcp.py";
  std::ofstream(server) << kEchoMcpServer;
  SessionOptions options;
  options.mcp_config =
      Json{{"mcpServers", {{"echo", {{"command", "python3"}, {"args", {server}}}}}}}.dump();
  options.strict_mcp_config = true;
  startSession("s", options);
  ASSERT_TRUE(client().query("s", "what tools").ok()) << mesh_->logs();
  auto request = mesh_->requestFor("what tools");
  ASSERT_TRUE(request.has_value());
  // The CLI offers MCP tools by name, to be loaded when used.
  EXPECT_NE(request->body.find("mcp__echo__say"), std::string::npos)
      << request->body.substr(0, 4000) << mesh_->logs();
}

TEST_F(AgentOptionsTest, SetModelChangesTheModelTheApiSeesOnTheNextTurn) {
  startSession("s");
  ASSERT_TRUE(client().query("s", "first").ok()) << mesh_->logs();
  const auto pid = client().info("s")->pid;
  auto set = client().set("s", "claude-other");
  ASSERT_TRUE(set.ok()) << set.error().message << mesh_->logs();
  ASSERT_TRUE(client().query("s", "second").ok()) << mesh_->logs();
  EXPECT_EQ(lastRequestFor("second")["model"], "claude-other");
  EXPECT_EQ(client().info("s")->pid, pid) << "the CLI was not restarted";
  // The conversation went on: the second request carries the first turn.
  EXPECT_EQ(mesh_->requestFor("second")->userPrompts().size(), 2u);
}

TEST_F(AgentOptionsTest, ContextReportsTheClisUsage) {
  startSession("s");
  ASSERT_TRUE(client().query("s", "hello").ok()) << mesh_->logs();
  auto context = client().context("s");
  ASSERT_TRUE(context.ok()) << context.error().message << mesh_->logs();
  const Json usage = Json::parse(context->usage);
  EXPECT_GT(usage.value("maxTokens", 0), 0) << context->usage.substr(0, 2000);
  EXPECT_TRUE(usage.contains("totalTokens")) << context->usage.substr(0, 2000);
}

}  // namespace
}  // namespace ccmesh::test
