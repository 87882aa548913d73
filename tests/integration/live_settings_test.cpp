// Live settings: `set` changes a session's model and permission mode through its CLI's
// control requests between turns, and `context` asks the CLI how full its context is. The
// mock CLI answers /model and /mode with what is in force.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

using Json = nlohmann::json;

class LiveSettingsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster();
    cluster_->startWorker("w1", {"--allow-permission-modes", "acceptEdits"});
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    client_ = cluster_->client();
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  std::string ask(const std::string& prompt) {
    auto reply = client_->query(name_, prompt);
    return reply.ok() ? reply->text : "error: " + reply.error().message;
  }

  CommandResult ccmesh(std::vector<std::string> args) {
    args.insert(args.begin(), {"--broker", cluster_->frontend()});
    return runCommand(binaryPath("ccmesh"), args);
  }

  static Cluster* cluster_;
  std::unique_ptr<client::Client> client_;
  std::string name_;  // the test's session
};

Cluster* LiveSettingsTest::cluster_ = nullptr;

TEST_F(LiveSettingsTest, SetChangesTheModelOfTheNextTurnAndARestartKeepsIt) {
  ASSERT_TRUE(client_->start(name_).ok());
  EXPECT_EQ(ask("/model"), "mock-model");
  const auto pid = client_->info(name_)->pid;
  auto set = client_->set(name_, "claude-next");
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(ask("/model"), "claude-next");
  EXPECT_EQ(client_->info(name_)->pid, pid) << "no restart";
  EXPECT_EQ(client_->info(name_)->config.model, "claude-next");
  ASSERT_TRUE(client_->restart(name_).ok());
  EXPECT_EQ(ask("/model"), "claude-next");
}

TEST_F(LiveSettingsTest, SetChangesThePermissionModeWhereTheWorkerAllowsIt) {
  ASSERT_TRUE(client_->start(name_).ok());
  ASSERT_TRUE(client_->set(name_, "", "plan").ok());
  EXPECT_EQ(ask("/mode"), "plan");
  ASSERT_TRUE(client_->set(name_, "", "acceptEdits").ok());
  EXPECT_EQ(ask("/mode"), "acceptEdits");
  auto widened = client_->set(name_, "", "bypassPermissions");
  ASSERT_FALSE(widened.ok());
  EXPECT_EQ(widened.error().code, ErrorCode::kUnauthorized) << widened.error().message;
  EXPECT_EQ(ask("/mode"), "acceptEdits");
  auto unknown = client_->set(name_, "", "yolo");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kBadRequest);
  auto nothing = client_->set(name_, "");
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().code, ErrorCode::kBadRequest);
  auto missing = client_->set("no-such-session", "m");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(LiveSettingsTest, SetWhileATurnRunsIsBusyAndChangesNothing) {
  ASSERT_TRUE(client_->start(name_).ok());
  const uint64_t id = client_->sendQuery(name_, "/sleep 60000");
  ASSERT_TRUE(waitFor([&] { return client_->info(name_)->state == "busy"; }));
  auto busy = client_->set(name_, "claude-later");
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, ErrorCode::kBusy) << busy.error().message;
  client_->cancel(id);
  ASSERT_TRUE(waitFor([&] {
    auto incoming = client_->receive(Millis{50});
    return incoming && incoming->id == id;
  }));
  EXPECT_EQ(ask("/model"), "mock-model");
}

TEST_F(LiveSettingsTest, ASessionWithoutACliTakesTheSettingForItsNextStart) {
  SessionOptions options;
  options.start = SessionOptions::kStartOnDemand;
  ASSERT_TRUE(client_->start(name_, options).ok());
  ASSERT_TRUE(client_->set(name_, "claude-later").ok());
  EXPECT_EQ(ask("/model"), "claude-later");
}

TEST_F(LiveSettingsTest, ContextReportsTheClisUsage) {
  SessionOptions options;
  options.start = SessionOptions::kStartOnDemand;
  ASSERT_TRUE(client_->start(name_, options).ok());
  auto asleep = client_->context(name_);
  ASSERT_FALSE(asleep.ok());
  EXPECT_EQ(asleep.error().code, ErrorCode::kUnavailable) << asleep.error().message;
  ASSERT_EQ(ask("hello"), "turn 1: hello");
  auto context = client_->context(name_);
  ASSERT_TRUE(context.ok()) << context.error().message;
  EXPECT_EQ(context->session, name_);
  const Json usage = Json::parse(context->usage);
  EXPECT_EQ(usage["maxTokens"], 200000);
  EXPECT_EQ(usage["totalTokens"], 1100);
  auto printed = ccmesh({"context", name_});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_EQ(printed.out, "session " + name_ + ": 1100 of 200000 tokens (0 %), model mock-model\n");
  auto json = ccmesh({"context", name_, "--json"});
  EXPECT_EQ(Json::parse(json.out)["usage"]["totalTokens"], 1100) << json.out;
}

TEST_F(LiveSettingsTest, TheToolSetsAndRefusesNothingToSet) {
  ASSERT_TRUE(client_->start(name_).ok());
  auto set = ccmesh({"set", name_, "--model", "claude-cli"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(ask("/model"), "claude-cli");
  auto nothing = ccmesh({"set", name_});
  EXPECT_EQ(nothing.exit_code, 2) << nothing.err;
  auto bad_mode = ccmesh({"set", name_, "--permission-mode", "yolo"});
  EXPECT_EQ(bad_mode.exit_code, 2) << bad_mode.err;
}

}  // namespace
}  // namespace ccmesh::test
