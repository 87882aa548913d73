// Cost and budgets: the broker adds up what each session's turns cost and used, across CLI
// restarts, failovers and broker restarts, and refuses queries budget_exhausted once a
// session's or a pool's cluster-side budget is spent. Every answered turn of the mock CLI
// costs 0.01 USD, reported like the real CLI's total_cost_usd: what its process spent since
// it started.
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <optional>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr double kTurnCost = 0.01;  // the mock CLI's price of an answered turn

class BudgetTest : public ::testing::Test {
 protected:
  void SetUp() override { name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

  void startCluster(std::vector<std::string> broker_args = {}) {
    cluster_ = std::make_unique<Cluster>(std::move(broker_args));
    cluster_->startWorker("w1");
    client_ = cluster_->client();
  }

  void ask(const std::string& session, int turns) {
    for (int i = 0; i < turns; ++i) {
      auto reply = client_->query(session, "turn " + std::to_string(i));
      ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
      EXPECT_NEAR(reply->cost_usd, kTurnCost, 1e-9) << "each answer says what its turn cost";
    }
  }

  // How a query ends when it is refused; nullopt (a failed expectation) if it was answered.
  std::optional<ErrorCode> refusalOf(const std::string& session, const std::string& prompt) {
    auto reply = client_->query(session, prompt);
    if (reply.ok()) return std::nullopt;
    return reply.error().code;
  }

  Usage usageOf(const std::string& session) {
    auto info = client_->info(session);
    return info.ok() ? info->usage : Usage{};
  }

  CommandResult ccmesh(std::vector<std::string> args) {
    args.insert(args.begin(), {"--broker", cluster_->frontend()});
    return runCommand(binaryPath("ccmesh"), args);
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<client::Client> client_;
  std::string name_;  // the test's session
};

TEST_F(BudgetTest, CostAndTokensAddUpPerTurnAcrossCliRestarts) {
  startCluster();
  ASSERT_TRUE(client_->start(name_).ok());
  ask(name_, 2);
  // A new CLI process counts its total_cost_usd from zero again: no turn is counted twice.
  ASSERT_TRUE(client_->restart(name_, /*keep_history=*/true).ok());
  ask(name_, 1);
  const Usage usage = usageOf(name_);
  EXPECT_EQ(usage.turns, 3u);
  EXPECT_NEAR(usage.cost_usd, 3 * kTurnCost, 1e-9);
  EXPECT_GT(usage.input_tokens, 0u);
  EXPECT_GT(usage.output_tokens, 0u);
  auto info = client_->info(name_);
  EXPECT_NEAR(info->cost_usd, 3 * kTurnCost, 1e-9);

  auto status = client_->status();
  ASSERT_TRUE(status.ok());
  EXPECT_NEAR(status->usage.cost_usd, 3 * kTurnCost, 1e-9);
  ASSERT_EQ(status->workers.size(), 1u);
  EXPECT_EQ(status->workers[0].usage.turns, 3u);

  auto by_worker = client_->usage("worker");
  ASSERT_TRUE(by_worker.ok()) << by_worker.error().message;
  ASSERT_EQ(by_worker->rows.size(), 1u);
  EXPECT_EQ(by_worker->rows[0].name, "w1");
  EXPECT_NEAR(by_worker->rows[0].usage.cost_usd, 3 * kTurnCost, 1e-9);
  auto by_model = client_->usage("model");
  ASSERT_TRUE(by_model.ok());
  ASSERT_EQ(by_model->rows.size(), 1u);
  EXPECT_EQ(by_model->rows[0].name, "") << "the CLI's default model";
  auto bad = client_->usage("colour");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kBadRequest);
}

TEST_F(BudgetTest, ASpentBudgetRefusesQueriesUntilAddedToOrReset) {
  startCluster();
  SessionOptions options;
  options.budget_usd = 2 * kTurnCost;
  ASSERT_TRUE(client_->start(name_, options).ok());
  ask(name_, 2);
  auto refused = client_->query(name_, "one more");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBudgetExhausted);
  EXPECT_NE(refused.error().message.find("budget"), std::string::npos) << refused.error().message;
  EXPECT_EQ(usageOf(name_).turns, 2u) << "the refused query never reached the CLI";

  auto shown = client_->budget(name_);
  ASSERT_TRUE(shown.ok()) << shown.error().message;
  EXPECT_EQ(shown->kind, "session");
  EXPECT_TRUE(shown->exhausted);
  EXPECT_NEAR(shown->spent_usd, 2 * kTurnCost, 1e-9);

  auto added = client_->budget(name_, /*add_usd=*/kTurnCost);
  ASSERT_TRUE(added.ok());
  EXPECT_NEAR(added->budget_usd, 3 * kTurnCost, 1e-9);
  EXPECT_FALSE(added->exhausted);
  ask(name_, 1);
  EXPECT_EQ(refusalOf(name_, "again"), ErrorCode::kBudgetExhausted);

  auto reset = client_->budget(name_, 0, -1, /*reset=*/true);
  ASSERT_TRUE(reset.ok());
  EXPECT_NEAR(reset->spent_usd, 0, 1e-9);
  ask(name_, 1);
  EXPECT_NEAR(usageOf(name_).cost_usd, 4 * kTurnCost, 1e-9) << "the totals stay";

  auto removed = client_->budget(name_, 0, /*set_usd=*/0);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->budget_usd, 0);
  ask(name_, 3);

  auto missing = client_->budget("no-such-name");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto negative = client_->budget(name_, -1);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().code, ErrorCode::kBadRequest);
}

TEST_F(BudgetTest, APoolsBudgetCountsItsMembersTogether) {
  startCluster();
  client::PoolCreateOptions pool_options;
  pool_options.size = 2;
  pool_options.options.pool_budget_usd = 3 * kTurnCost;
  auto created = client_->poolCreate("team", pool_options);
  ASSERT_TRUE(created.ok()) << created.error().message;
  ASSERT_TRUE(waitFor([&] {
    auto pool = client_->poolInfo("team");
    return pool.ok() && pool->members.size() == 2 && pool->members[0].state == "idle" &&
           pool->members[1].state == "idle";
  })) << cluster_->logs();
  for (int i = 0; i < 3; ++i) {
    auto reply = client_->poolQuery("team", "hello");
    ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
  }
  auto refused = client_->poolQuery("team", "one more");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBudgetExhausted) << refused.error().message;
  // A member asked by name is refused too: the pool's budget is spent.
  EXPECT_EQ(refusalOf("team/0", "direct"), ErrorCode::kBudgetExhausted);

  auto pool = client_->poolInfo("team");
  ASSERT_TRUE(pool.ok());
  EXPECT_NEAR(pool->usage.cost_usd, 3 * kTurnCost, 1e-9);
  EXPECT_EQ(pool->usage.turns, 3u);
  EXPECT_NEAR(pool->budget_usd, 3 * kTurnCost, 1e-9);

  auto by_pool = client_->usage("pool");
  ASSERT_TRUE(by_pool.ok());
  ASSERT_EQ(by_pool->rows.size(), 1u);
  EXPECT_EQ(by_pool->rows[0].sessions, 2u);
  EXPECT_NEAR(by_pool->rows[0].spent_usd, 3 * kTurnCost, 1e-9);

  auto added = client_->budget("team", 2 * kTurnCost);
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(added->kind, "pool");
  EXPECT_TRUE(client_->poolQuery("team", "more").ok());
}

TEST_F(BudgetTest, TotalsAndBudgetsSurviveFailover) {
  cluster_ = std::make_unique<Cluster>(std::vector<std::string>{"--heartbeat-ms", "100"});
  cluster_->startWorker("w1");
  client_ = cluster_->client();
  SessionOptions options;
  options.budget_usd = 3 * kTurnCost;
  ASSERT_TRUE(client_->start(name_, options).ok());
  ask(name_, 2);
  cluster_->startWorker("w2");
  cluster_->worker("w1").signal(SIGKILL);
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info(name_);
    return info && info->worker == "w2" && info->state == "idle";
  })) << cluster_->logs();
  ask(name_, 1);
  EXPECT_EQ(usageOf(name_).turns, 3u);
  EXPECT_NEAR(usageOf(name_).cost_usd, 3 * kTurnCost, 1e-9);
  EXPECT_EQ(refusalOf(name_, "over"), ErrorCode::kBudgetExhausted)
      << "the budget counts the turns run on w1";
}

TEST_F(BudgetTest, TotalsAndBudgetsSurviveABrokerRestart) {
  startCluster();
  SessionOptions options;
  options.budget_usd = 10 * kTurnCost;
  ASSERT_TRUE(client_->start(name_, options).ok());
  ask(name_, 3);
  ASSERT_TRUE(client_->budget(name_, 0, -1, /*reset=*/true).ok());
  ask(name_, 1);
  ASSERT_TRUE(client_->budget(name_, 0, /*set_usd=*/kTurnCost).ok());  // spent: 0.01 of 0.01

  cluster_->restartBroker();  // no --data-dir: the worker brings everything back
  client_ = cluster_->client();
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info(name_);
    return info.ok() && info->state == "idle";
  })) << cluster_->logs();
  const Usage usage = usageOf(name_);
  EXPECT_EQ(usage.turns, 4u);
  EXPECT_NEAR(usage.cost_usd, 4 * kTurnCost, 1e-9);
  EXPECT_NEAR(usage.spentUsd(), kTurnCost, 1e-9) << "the reset survived";
  EXPECT_EQ(refusalOf(name_, "over"), ErrorCode::kBudgetExhausted)
      << "the budget set before the restart survived";
}

TEST_F(BudgetTest, TheToolShowsUsageAndChangesBudgets) {
  startCluster();
  auto started = ccmesh({"start", name_, "--budget-usd", "0.01"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  ask(name_, 1);
  auto refused = ccmesh({"query", name_, "more"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("budget_exhausted"), std::string::npos) << refused.err;

  auto table = ccmesh({"usage"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("BUDGET"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(name_), std::string::npos) << table.out;
  auto json = ccmesh({"usage", "--by", "worker", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const Json parsed = Json::parse(json.out);
  EXPECT_EQ(parsed["by"], "worker");
  EXPECT_EQ(parsed["rows"][0]["name"], "w1");
  EXPECT_EQ(parsed["rows"][0]["usage"]["turns"], 1);

  auto add = ccmesh({"budget", name_, "--add", "0.02"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find("0.0300 USD"), std::string::npos) << add.out;
  EXPECT_EQ(ccmesh({"query", name_, "now"}).exit_code, 0);
  auto shown = ccmesh({"budget", name_, "--json"});
  ASSERT_EQ(shown.exit_code, 0);
  EXPECT_NEAR(Json::parse(shown.out)["spent_usd"].get<double>(), 2 * kTurnCost, 1e-9);
  auto info = ccmesh({"info", name_});
  EXPECT_NE(info.out.find("budget: 0.0200 USD spent of 0.0300 USD"), std::string::npos) << info.out;

  EXPECT_EQ(ccmesh({"usage", "--by", "colour"}).exit_code, 2);
  EXPECT_EQ(ccmesh({"budget", name_, "--add", "-1"}).exit_code, 2);
  EXPECT_EQ(ccmesh({"budget", "nobody"}).exit_code, 3);
}

}  // namespace
}  // namespace ccmesh::test
