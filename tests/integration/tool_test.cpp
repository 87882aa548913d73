// The `ccmesh` command-line tool against a real cluster: output, --json and exit codes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

class ToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<Cluster>();
    cluster_->startWorker("w1");
  }

  CommandResult ccmesh(std::vector<std::string> args) {
    args.insert(args.begin(), {"--broker", cluster_->frontend()});
    return runCommand(binaryPath("ccmesh"), args);
  }

  std::unique_ptr<Cluster> cluster_;
};

TEST_F(ToolTest, StartsQueriesAndStreams) {
  auto start = ccmesh({"start", "s", "--system-prompt", "be terse"});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  auto query = ccmesh({"query", "s", "hello there"});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_EQ(query.out, "turn 1: hello there\n");
  auto stream = ccmesh({"query", "s", "/sleep 100", "--stream"});
  ASSERT_EQ(stream.exit_code, 0) << stream.err;
  EXPECT_EQ(stream.out, "turn 2: /sleep 100\n");
  auto system = ccmesh({"query", "s", "/system"});
  EXPECT_EQ(system.out, "be terse\n");
}

TEST_F(ToolTest, PrintsJsonForEveryCommand) {
  ASSERT_EQ(ccmesh({"start", "s", "--json"}).exit_code, 0);
  auto query = ccmesh({"query", "s", "hi", "--json"});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  auto answer = nlohmann::json::parse(query.out);
  EXPECT_TRUE(answer["ok"].get<bool>());
  EXPECT_EQ(answer["text"], "turn 1: hi");

  auto info = nlohmann::json::parse(ccmesh({"info", "s", "--json"}).out);
  for (const char* key : {"name", "worker", "generation", "state", "pid", "session_id", "restarts",
                          "queue_depth", "config"}) {
    EXPECT_TRUE(info.contains(key)) << key << " missing in " << info.dump();
  }
  EXPECT_EQ(info["worker"], "w1");

  auto list = nlohmann::json::parse(ccmesh({"list", "--json"}).out);
  ASSERT_EQ(list["sessions"].size(), 1u);
  auto count = nlohmann::json::parse(ccmesh({"--json", "count"}).out);
  EXPECT_EQ(count["count"], 1);
  auto status = nlohmann::json::parse(ccmesh({"status", "--json"}).out);
  ASSERT_EQ(status["workers"].size(), 1u);
  EXPECT_EQ(status["workers"][0]["id"], "w1");
  EXPECT_TRUE(status["workers"][0].contains("heartbeat_age_ms"));
  EXPECT_EQ(ccmesh({"ping", "--json"}).exit_code, 0);
}

TEST_F(ToolTest, ReportsErrorsWithCodesAndExitStatus) {
  auto missing = ccmesh({"query", "nobody", "hi"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("error: not_found:"), std::string::npos) << missing.err;

  auto json_missing = ccmesh({"info", "nobody", "--json"});
  EXPECT_EQ(json_missing.exit_code, 3);
  auto error = nlohmann::json::parse(json_missing.out);
  EXPECT_FALSE(error["ok"].get<bool>());
  EXPECT_EQ(error["error"]["code"], "not_found");

  EXPECT_EQ(ccmesh({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(ccmesh({"query", "only-a-name"}).exit_code, 2);
  auto bad_option = ccmesh({"start", "x", "--max-turns", "many"});
  EXPECT_EQ(bad_option.exit_code, 2);
  EXPECT_NE(bad_option.err.find("max_turns"), std::string::npos) << bad_option.err;
}

// The broker refuses option keys it does not know; every flag of `ccmesh start` still
// reaches the session, and so does the sessions file's `idle_timeout` spelling.
TEST_F(ToolTest, EveryStartFlagAndTheSessionsFileAliasStillReachTheSession) {
  auto start = ccmesh({"start",
                       "flagged",
                       "--system-prompt",
                       "s",
                       "--append-system-prompt",
                       "a",
                       "--model",
                       "m",
                       "--max-turns",
                       "3",
                       "--allowed-tools",
                       "Read,Grep",
                       "--disallowed-tools",
                       "Write",
                       "--add-dir",
                       cluster_->dir(),
                       "--cwd",
                       cluster_->dir(),
                       "--permission-mode",
                       "plan",
                       "--env",
                       "FLAVOUR=mint",
                       "--query-timeout",
                       "9000",
                       "--max-restarts",
                       "2",
                       "--restart-window",
                       "7000",
                       "--start",
                       "on_demand",
                       "--idle-timeout",
                       "600000",
                       "--max-rss-mb",
                       "4096",
                       "--json"});
  ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
  auto info = ccmesh({"info", "flagged", "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  auto config = nlohmann::json::parse(info.out)["config"];
  EXPECT_EQ(config["system_prompt"], "s");
  EXPECT_EQ(config["max_turns"], 3);
  EXPECT_EQ(config["allowed_tools"].size(), 2u);
  EXPECT_EQ(config["env"]["FLAVOUR"], "mint");
  EXPECT_EQ(config["start"], "on_demand");
  EXPECT_EQ(config["idle_timeout_ms"], 600000);
  EXPECT_EQ(config["max_rss_mb"], 4096);

  const std::string file = cluster_->dir() + "/sessions.conf";
  std::ofstream(file) << "[session.filed]\nidle_timeout = 600000\nstart = on_demand\n";
  Cluster with_file({"--sessions", file});
  with_file.startWorker("w1");
  auto client = with_file.client();
  client::Reply<msg::SessionInfo> filed = client->info("filed");
  ASSERT_TRUE(waitFor([&] {
    filed = client->info("filed");
    return filed.ok() && filed->state == "hibernated";
  })) << with_file.logs();
  EXPECT_EQ(filed->config.idle_timeout_ms, 600000u);
}

TEST(ToolWithoutBroker, TimesOutWithExitStatusFive) {
  // Nothing listens on this endpoint: the reply never comes and the deadline ends the call.
  TempDir dir;
  auto result = runCommand(binaryPath("ccmesh"), {"--broker", "ipc://" + dir.path() + "/nobody",
                                                  "--timeout", "300", "ping"});
  EXPECT_EQ(result.exit_code, 5) << result.err;
  EXPECT_NE(result.err.find("error: timeout:"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace ccmesh::test
