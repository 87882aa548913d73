// A budget change is answered once every worker that hosts a session it changes has it:
// without --data-dir those workers are where a restarted broker gets budgets back from, so
// an answer sent before they confirm could be undone by a broker killed just after it.
#include <gtest/gtest.h>

#include <string>

#include "broker_core_fixture.hpp"

namespace ccmesh::broker {
namespace {

using testing::BrokerCoreTest;
using testing::envelope;

class BrokerBudgetTest : public BrokerCoreTest {
 protected:
  // Replies sent to client "c" so far.
  std::size_t repliesToClient() const {
    std::size_t replies = 0;
    for (const auto& sent : sender_.to_clients) {
      if (sent.peer == "c") ++replies;
    }
    return replies;
  }

  // The budget update `worker` got last.
  msg::BudgetUpdate updateOn(const std::string& worker) {
    return sender_.last("r-" + worker, MessageType::kBudget).as<msg::BudgetUpdate>();
  }

  // `worker` says it keeps the budget of `update`.
  void confirm(const std::string& worker, const msg::BudgetUpdate& update) {
    core_->settleResult(
        worker, envelope(MessageType::kResult,
                         msg::Ack{update.id, update.session, worker, update.generation, "idle"}));
  }

  // The budget result client "c" got last.
  msg::BudgetResult answer() {
    return sender_.last("c", MessageType::kResult, true).as<msg::BudgetResult>();
  }

  static msg::BudgetRequest setTo(uint64_t id, const std::string& name, double usd) {
    return msg::BudgetRequest{id, name, 0, usd, false};
  }
};

TEST_F(BrokerBudgetTest, ASessionsBudgetIsAnsweredOnceItsWorkerKeepsIt) {
  join("w1");
  startIdle("s");
  const std::size_t before = repliesToClient();
  core_->budget("c", setTo(9, "s", 0.5));
  EXPECT_DOUBLE_EQ(core_->sessions().find("s")->options.budget_usd, 0.5)
      << "the broker counts against the new budget at once";
  EXPECT_EQ(repliesToClient(), before) << "no answer before the worker keeps it";
  const auto update = updateOn("w1");
  EXPECT_NE(update.id, 0u) << "the update asks for a confirmation";
  EXPECT_DOUBLE_EQ(update.budget_usd, 0.5);

  confirm("w1", update);
  ASSERT_EQ(repliesToClient(), before + 1);
  const auto result = answer();
  EXPECT_EQ(result.id, 9u);
  EXPECT_EQ(result.kind, "session");
  EXPECT_DOUBLE_EQ(result.budget_usd, 0.5);
  EXPECT_EQ(core_->requests().size(), 0u);
}

TEST_F(BrokerBudgetTest, ABudgetOnlyReadOrOfAnUnplacedSessionIsAnsweredAtOnce) {
  join("w1", 1);
  startIdle("s");
  core_->budget("c", msg::BudgetRequest{4, "s", 0, -1, false});
  EXPECT_EQ(answer().id, 4u);
  EXPECT_THROW(updateOn("w1"), std::runtime_error) << "reading changes nothing on the worker";

  core_->declare({SessionSpec{"later", {}}});
  ASSERT_TRUE(core_->sessions().find("later")->worker.empty()) << "w1 has no room for it";
  core_->budget("c", setTo(5, "later", 0.25));
  EXPECT_EQ(answer().id, 5u) << "its placement will carry the budget";
  EXPECT_DOUBLE_EQ(answer().budget_usd, 0.25);
}

TEST_F(BrokerBudgetTest, APoolsBudgetWaitsForEveryWorkerOfItsMembers) {
  join("w1", 1);
  join("w2", 1);
  const std::string first = startIdle("a", 1);
  const std::string second = startIdle("b", 2);
  ASSERT_NE(first, second) << "one member on each worker";
  core_->createPool("c", msg::PoolCreate{3, "team", 0, "", {}, {"a", "b"}}, "alice");
  const std::size_t before = repliesToClient();

  core_->budget("c", setTo(8, "team", 1.0));
  const auto on_first = updateOn(first);
  const auto on_second = updateOn(second);
  EXPECT_EQ(on_first.id, on_second.id);
  EXPECT_DOUBLE_EQ(on_first.pool_budget_usd, 1.0);
  confirm(first, on_first);
  EXPECT_EQ(repliesToClient(), before) << second << " has not confirmed yet";
  confirm(second, on_second);
  ASSERT_EQ(repliesToClient(), before + 1);
  EXPECT_EQ(answer().id, 8u);
  EXPECT_EQ(answer().kind, "pool");
}

TEST_F(BrokerBudgetTest, AWorkerLostBeforeItConfirmsLeavesTheBudgetToTheNamesNextPlacement) {
  join("w1");
  startIdle("s");
  join("w2");
  core_->budget("c", setTo(6, "s", 0.5));
  core_->workerLost("w1", event::LossCause::kSilence, "test");
  EXPECT_EQ(answer().id, 6u);
  const auto assign = sender_.last("r-w2", MessageType::kAssign).as<msg::Assign>();
  EXPECT_DOUBLE_EQ(assign.options.budget_usd, 0.5) << "the name moves with its new budget";
}

TEST_F(BrokerBudgetTest, AWorkerThatRegistersAgainGetsTheUpdateAgain) {
  join("w1");
  startIdle("s");
  core_->budget("c", setTo(6, "s", 0.5));
  const auto update = updateOn("w1");
  const std::size_t sent = sender_.to_workers.size();
  // Its connection was new, and its report may be older than the update.
  msg::Ready ready;
  ready.worker = "w1";
  ready.capacity = 8;
  msg::SessionReport report;
  report.update.session = "s";
  report.update.generation = update.generation;
  report.update.state = "idle";
  ready.sessions.push_back(report);
  core_->workerJoined("r-w1", "w1", ready);
  bool sent_again = false;
  for (std::size_t i = sent; i < sender_.to_workers.size(); ++i) {
    const auto& message = sender_.to_workers[i];
    if (message.type == MessageType::kBudget) {
      sent_again = message.as<msg::BudgetUpdate>().id == update.id;
    }
  }
  EXPECT_TRUE(sent_again);
  confirm("w1", update);
  EXPECT_EQ(answer().id, 6u);
}

TEST_F(BrokerBudgetTest, AWorkerThatNeverConfirmsEndsTheRequestTimeout) {
  join("w1");
  startIdle("s");
  core_->budget("c", setTo(7, "s", 0.5));
  // w1 stays alive, answering heartbeats, and never confirms.
  const TimePoint deadline = clock_.now() + config_.control_timeout;
  for (uint64_t seq = 1; clock_.now() <= deadline; ++seq) {
    clock_.advance(Millis(50));
    core_->heardFrom("w1");
    core_->heartbeatFrom("w1", seq);
    core_->expire(clock_.now());
  }
  const auto error = sender_.last("c", MessageType::kError, true).as<msg::ErrorReply>();
  EXPECT_EQ(error.id, 7u);
  EXPECT_EQ(error.code, "timeout");
  EXPECT_NE(error.message.find("w1"), std::string::npos) << error.message;
  EXPECT_EQ(core_->requests().size(), 0u);
}

}  // namespace
}  // namespace ccmesh::broker
