// Every session option reaches the CLI as the right flag, environment or directory.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

class OptionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster();
    // These tests check that options reach the CLI, so the worker allows the ones that widen
    // what the agent may do (safe_defaults_test checks they are refused otherwise).
    cluster_->startWorker("w1", {"--allow-permission-modes", "acceptEdits", "--allowed-roots",
                                 "/tmp,/usr", "--allow-mcp-commands"});
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  // Starts a session with `options`, asks the mock CLI for its argv and terminates it.
  std::vector<std::string> argvOf(const SessionOptions& options) {
    auto client = cluster_->client();
    std::string name = "opt" + std::to_string(next_++);
    auto ack = client->start(name, options);
    EXPECT_TRUE(ack.ok()) << ack.error().message;
    auto reply = client->query(name, "/argv");
    EXPECT_TRUE(reply.ok()) << reply.error().message;
    (void)client->terminate(name);
    if (!reply.ok()) return {};
    return nlohmann::json::parse(reply->text).get<std::vector<std::string>>();
  }

  std::string ask(const SessionOptions& options, const std::string& prompt) {
    auto client = cluster_->client();
    std::string name = "ask" + std::to_string(next_++);
    auto ack = client->start(name, options);
    EXPECT_TRUE(ack.ok()) << ack.error().message;
    auto reply = client->query(name, prompt);
    (void)client->terminate(name);
    return reply.ok() ? reply->text : "error: " + reply.error().message;
  }

  // True if `flag` is followed by `value` in argv, or argv holds `flag=value`.
  static bool hasFlag(const std::vector<std::string>& argv, const std::string& flag,
                      const std::string& value) {
    for (size_t i = 0; i < argv.size(); ++i) {
      if (argv[i] == flag + "=" + value) return true;
      if (argv[i] == flag && i + 1 < argv.size() && argv[i + 1] == value) return true;
    }
    return false;
  }

  static Cluster* cluster_;
  static int next_;
};

Cluster* OptionsTest::cluster_ = nullptr;
int OptionsTest::next_ = 0;

TEST_F(OptionsTest, AgentFeatureOptionsReachTheCliAsTheirFlags) {
  SessionOptions o;
  o.max_budget_usd = 2.5;
  o.fallback_model = "claude-haiku-4-5";
  o.effort = "high";
  o.settings = R"({"model":"claude-from-settings"})";
  o.setting_sources = {"user", "project"};
  o.agents = R"({"reviewer":{"description":"Reviews code","prompt":"You review code."}})";
  o.json_schema = R"({"type":"object"})";
  o.mcp_config = R"({"mcpServers":{"calc":{"command":"/bin/true"}}})";
  o.strict_mcp_config = true;
  const auto argv = argvOf(o);
  EXPECT_TRUE(hasFlag(argv, "--max-budget-usd", "2.5"));
  EXPECT_TRUE(hasFlag(argv, "--fallback-model", "claude-haiku-4-5"));
  EXPECT_TRUE(hasFlag(argv, "--effort", "high"));
  EXPECT_TRUE(hasFlag(argv, "--settings", o.settings));
  EXPECT_TRUE(hasFlag(argv, "--setting-sources", "user,project"));
  EXPECT_TRUE(hasFlag(argv, "--agents", o.agents));
  EXPECT_TRUE(hasFlag(argv, "--json-schema", o.json_schema));
  EXPECT_TRUE(hasFlag(argv, "--mcp-config", o.mcp_config));
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--strict-mcp-config"), argv.end());
}

TEST_F(OptionsTest, JsonSchemaAnswersCarryTheStructuredValue) {
  auto client = cluster_->client();
  SessionOptions o;
  o.json_schema = R"({"type":"object","properties":{"answer":{"type":"string"}}})";
  ASSERT_TRUE(client->start("structured", o).ok());
  auto reply = client->query("structured", "hi");
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(nlohmann::json::parse(reply->structured), nlohmann::json({{"answer", "turn 1: hi"}}));
  auto json = runCommand(binaryPath("ccmesh"), {"--broker", cluster_->frontend(), "query",
                                                "structured", "again", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["structured"]["answer"], "turn 2: again") << json.out;
  (void)client->terminate("structured");
}

TEST_F(OptionsTest, ASpentBudgetEndsQueriesWithBudgetExhausted) {
  auto client = cluster_->client();
  SessionOptions o;
  o.max_budget_usd = 0.015;  // the mock charges 0.01 a turn: two turns, then spent
  ASSERT_TRUE(client->start("budgeted", o).ok());
  ASSERT_TRUE(client->query("budgeted", "one").ok());
  ASSERT_TRUE(client->query("budgeted", "two").ok());
  auto spent = client->query("budgeted", "three");
  ASSERT_FALSE(spent.ok());
  EXPECT_EQ(spent.error().code, ErrorCode::kBudgetExhausted) << spent.error().message;
  EXPECT_NE(spent.error().message.find("budget"), std::string::npos) << spent.error().message;
  (void)client->terminate("budgeted");
}

TEST_F(OptionsTest, BadAgentOptionsAreRefusedNamingThem) {
  auto client = cluster_->client();
  auto refused = [&](const std::string& key, const std::string& value) {
    SessionOptions o;
    EXPECT_FALSE(o.set(key, value)) << key;
    auto ack = client->start("bad-" + key, o);
    EXPECT_FALSE(ack.ok()) << key;
    if (ack.ok()) return;
    EXPECT_EQ(ack.error().code, ErrorCode::kBadRequest);
    EXPECT_NE(ack.error().message.find("option " + key), std::string::npos) << ack.error().message;
  };
  refused("effort", "extreme");
  refused("settings", "{not json");
  refused("settings", "relative/path.json");
  refused("agents", "[1]");
  refused("json_schema", "schema");
  refused("mcp_config", "servers.json");
  refused("setting_sources", "global");
  SessionOptions o;
  EXPECT_TRUE(o.set("max_budget_usd", "-1"));
  EXPECT_TRUE(o.set("strict_mcp_config", "perhaps"));
}

TEST_F(OptionsTest, SystemPrompt) {
  SessionOptions o;
  o.system_prompt = "be exact";
  EXPECT_TRUE(hasFlag(argvOf(o), "--system-prompt", "be exact"));
}

TEST_F(OptionsTest, AppendSystemPrompt) {
  SessionOptions o;
  o.append_system_prompt = "and brief";
  EXPECT_TRUE(hasFlag(argvOf(o), "--append-system-prompt", "and brief"));
}

TEST_F(OptionsTest, Model) {
  SessionOptions o;
  o.model = "claude-test-1";
  EXPECT_TRUE(hasFlag(argvOf(o), "--model", "claude-test-1"));
}

TEST_F(OptionsTest, MaxTurns) {
  SessionOptions o;
  o.max_turns = 7;
  EXPECT_TRUE(hasFlag(argvOf(o), "--max-turns", "7"));
}

TEST_F(OptionsTest, AllowedAndDisallowedTools) {
  SessionOptions o;
  o.allowed_tools = {"Read", "Bash(echo:*)"};
  o.disallowed_tools = {"Write", "Edit"};
  auto argv = argvOf(o);
  EXPECT_TRUE(hasFlag(argv, "--allowedTools", "Read,Bash(echo:*)"));
  EXPECT_TRUE(hasFlag(argv, "--disallowedTools", "Write,Edit"));
}

TEST_F(OptionsTest, AddDirOncePerEntry) {
  SessionOptions o;
  o.add_dir = {"/tmp", "/usr"};
  auto argv = argvOf(o);
  EXPECT_TRUE(hasFlag(argv, "--add-dir", "/tmp"));
  EXPECT_TRUE(hasFlag(argv, "--add-dir", "/usr"));
}

TEST_F(OptionsTest, PermissionMode) {
  SessionOptions o;
  o.permission_mode = "acceptEdits";
  EXPECT_TRUE(hasFlag(argvOf(o), "--permission-mode", "acceptEdits"));
}

TEST_F(OptionsTest, PinsTheSessionIdAndStreamsPartialMessages) {
  auto argv = argvOf({});
  bool pinned = false;
  for (const auto& arg : argv) pinned |= arg.rfind("--session-id=", 0) == 0;
  EXPECT_TRUE(pinned);
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--include-partial-messages"), argv.end());
}

TEST_F(OptionsTest, ResumeUsesTheEqualsForm) {
  // First a conversation to resume, then a session that resumes it.
  auto client = cluster_->client();
  ASSERT_TRUE(client->start("original").ok());
  ASSERT_TRUE(client->query("original", "earlier words").ok());
  auto info = client->info("original");
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(client->terminate("original").ok());
  SessionOptions o;
  o.resume = info->session_id;
  ASSERT_TRUE(client->start("resumed", o).ok());
  auto history = client->query("resumed", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message;
  EXPECT_EQ(history->text, "earlier words");
  auto argv_reply = client->query("resumed", "/argv");
  ASSERT_TRUE(argv_reply.ok());
  auto argv = nlohmann::json::parse(argv_reply->text).get<std::vector<std::string>>();
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--resume=" + info->session_id), argv.end());
  ASSERT_TRUE(client->terminate("resumed").ok());
}

TEST_F(OptionsTest, EnvReachesTheCli) {
  SessionOptions o;
  o.env = {{"CCMESH_TEST_MARK", "marked"}};
  EXPECT_EQ(ask(o, "/env CCMESH_TEST_MARK"), "marked");
}

TEST_F(OptionsTest, CwdIsTheWorkingDirectory) {
  TempDir dir;
  SessionOptions o;
  o.cwd = dir.path();
  EXPECT_EQ(ask(o, "/cwd"), std::filesystem::canonical(dir.path()).string());
}

TEST_F(OptionsTest, InvalidOptionsAreRefusedNamingTheOption) {
  auto client = cluster_->client();
  SessionOptions mode;
  mode.permission_mode = "sometimes";
  auto a = client->start("bad1", mode);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(a.error().message.find("permission_mode"), std::string::npos);

  SessionOptions cwd;
  cwd.cwd = "/tmp/definitely/not/here";  // inside the worker's allowed roots, but missing
  auto b = client->start("bad2", cwd);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(b.error().message.find("cwd"), std::string::npos);
}

}  // namespace
}  // namespace ccmesh::test
