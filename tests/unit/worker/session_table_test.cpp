// SessionTable against the real mock CLI, with a manual clock: a burst of assignments (a
// failover brings a hundred at once) spawns its CLIs a few per loop round, those with
// prompts queued first.
#include "session_table.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "mock_cli_fixture.hpp"

namespace ccmesh::worker {
namespace {

class SessionTableTest : public MockCliFixture {
 protected:
  SessionTableTest() : MockCliFixture("ccmesh-table-test-") {}
};

TEST_F(SessionTableTest, SpawnsABurstOfClisAFewPerLoopRound) {
  std::vector<msg::Ack> acks;
  SessionTable table(context_, 100, [&](MessageType type, msgpack::sbuffer body) {
    if (type != MessageType::kResult) return;
    auto ack = msgpack::unpack(body.data(), body.size()).get().as<msg::Ack>();
    if (ack.id != 0) acks.push_back(ack);
  });
  constexpr std::size_t kBurst = 20;
  for (std::size_t i = 0; i < kBurst; ++i) {
    table.assign(msg::Assign{i + 1, "s" + std::to_string(i), 1, {}});
  }
  auto spawned = [&] {
    std::size_t count = 0;
    table.forEach([&](Session& session) { count += session.process() != nullptr ? 1 : 0; });
    return count;
  };
  const std::size_t round = SessionTable::kSpawnsPerRound;
  EXPECT_EQ(spawned(), round);
  EXPECT_EQ(acks.size(), round) << "a start is acknowledged once its CLI runs";
  auto next = table.nextDeadline();
  ASSERT_TRUE(next.has_value()) << "the loop must come back at once for the others";
  EXPECT_LE(*next, clock_.now());
  table.onTimer();
  EXPECT_EQ(spawned(), 2 * round);
  table.onTimer();
  table.onTimer();
  EXPECT_EQ(spawned(), kBurst);
  EXPECT_EQ(acks.size(), kBurst);
  for (const auto& ack : acks) EXPECT_EQ(ack.state, "starting") << ack.session;
  table.fenceAll();  // kills and reaps every CLI
  EXPECT_TRUE(table.empty());
}

// Whether session `name` of `table` has a CLI process.
bool runs(SessionTable& table, const std::string& name) {
  bool found = false;
  table.forEach([&](Session& session) {
    if (session.name() == name && session.process() != nullptr) found = true;
  });
  return found;
}

// After a failover, names with queries arrive amid many that only start: a prompt for a
// session waiting for its turn to spawn puts it ahead of the others.
TEST_F(SessionTableTest, SpawnsASessionWithAPromptBeforeThoseThatOnlyStart) {
  SessionTable table(context_, 100, [](MessageType, msgpack::sbuffer) {});
  const std::size_t round = SessionTable::kSpawnsPerRound;
  const std::size_t burst = 2 * round + 4;
  for (std::size_t i = 0; i < burst; ++i) {
    table.assign(msg::Assign{i + 1, "s" + std::to_string(i), 1, {}});
  }
  const std::string last = "s" + std::to_string(burst - 1);
  ASSERT_FALSE(runs(table, last));
  table.query(msg::Query{100, last, "hi", false, 0, 1});
  table.onTimer();
  EXPECT_TRUE(runs(table, last)) << "the prompted session spawns in the next round";
  EXPECT_FALSE(runs(table, "s" + std::to_string(2 * round - 1)))
      << "one that only starts waits a round longer for it";
  for (std::size_t i = round; i < 2 * round - 1; ++i) {
    EXPECT_TRUE(runs(table, "s" + std::to_string(i))) << "the plain line keeps its order";
  }
  table.fenceAll();
  EXPECT_TRUE(table.empty());
}

// A hibernated (on-demand) session woken by a prompt while others wait for their turn goes
// ahead of them.
TEST_F(SessionTableTest, SpawnsASessionWokenByAPromptBeforeThoseThatOnlyStart) {
  SessionTable table(context_, 100, [](MessageType, msgpack::sbuffer) {});
  const std::size_t round = SessionTable::kSpawnsPerRound;
  for (std::size_t i = 0; i < 2 * round; ++i) {
    table.assign(msg::Assign{i + 1, "s" + std::to_string(i), 1, {}});
  }
  SessionOptions lazy;
  lazy.start = std::string(SessionOptions::kStartOnDemand);
  table.assign(msg::Assign{100, "lazy", 1, lazy});
  ASSERT_FALSE(runs(table, "lazy"));
  table.query(msg::Query{101, "lazy", "hi", false, 0, 1});
  ASSERT_FALSE(runs(table, "lazy")) << "this round is full";
  table.onTimer();
  EXPECT_TRUE(runs(table, "lazy")) << "the woken session spawns in the next round";
  EXPECT_FALSE(runs(table, "s" + std::to_string(2 * round - 1)))
      << "one that only starts waits a round longer for it";
  table.onTimer();
  EXPECT_TRUE(runs(table, "s" + std::to_string(2 * round - 1)));
  table.fenceAll();
  EXPECT_TRUE(table.empty());
}

// Deltas streamed while the link is backed up merge into one event, and the answer of the
// query leaves only after it: a client sees the text in order, then the result.
TEST_F(SessionTableTest, SendsAQuerysHeldDeltaBeforeItsAnswer) {
  std::vector<std::pair<MessageType, std::string>> sent;  // type, event text or result text
  bool backlog = false;
  SessionTable table(context_, 4, [&](MessageType type, msgpack::sbuffer body) {
    auto object = msgpack::unpack(body.data(), body.size());
    if (type == MessageType::kEvent) {
      sent.emplace_back(type, object.get().as<msg::Event>().text);
    } else if (type == MessageType::kResult) {
      sent.emplace_back(type, object.get().as<msg::QueryResult>().text);
    }
  });
  table.watchLinkBacklog([&] { return backlog; });
  table.onEvent(msg::Event{9, 0, "delta", "Hel"});
  backlog = true;
  table.onEvent(msg::Event{9, 1, "delta", "lo, "});
  table.releaseDeltas();
  table.onEvent(msg::Event{9, 2, "delta", "world"});
  table.releaseDeltas();
  ASSERT_EQ(sent.size(), 1u) << "the first delta leaves at once, the rest wait for the link";
  msg::QueryResult result;
  result.id = 9;
  result.text = "Hello, world";
  table.onQueryResult(result);
  using Sent = std::vector<std::pair<MessageType, std::string>>;
  EXPECT_EQ(sent, (Sent{{MessageType::kEvent, "Hel"},
                        {MessageType::kEvent, "lo, world"},
                        {MessageType::kResult, "Hello, world"}}));
  EXPECT_FALSE(table.nextDeltaRelease().has_value()) << "nothing held after the answer";
}

// A budget update that asks for a confirmation gets one once the session keeps it (the broker
// answers its client then); one for a copy this worker does not hold gets not_found.
TEST_F(SessionTableTest, ConfirmsABudgetUpdateOnceTheSessionKeepsIt) {
  std::vector<msg::Ack> acks;
  std::vector<msg::ErrorReply> errors;
  SessionTable table(context_, 4, [&](MessageType type, msgpack::sbuffer body) {
    auto object = msgpack::unpack(body.data(), body.size());
    if (type == MessageType::kResult) acks.push_back(object.get().as<msg::Ack>());
    if (type == MessageType::kError) errors.push_back(object.get().as<msg::ErrorReply>());
  });
  table.assign(msg::Assign{1, "s", 3, {}});
  acks.clear();
  table.budget(msg::BudgetUpdate{"s", 3, 0.5, 2.0, 0.25, 0});
  EXPECT_TRUE(acks.empty()) << "an update without an id is not answered";
  table.budget(msg::BudgetUpdate{"s", 3, 0.75, 2.0, 0.25, 42});
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].id, 42u);
  EXPECT_EQ(acks[0].session, "s");
  table.forEach([](Session& session) {
    EXPECT_DOUBLE_EQ(session.options().budget_usd, 0.75);
    EXPECT_DOUBLE_EQ(session.options().pool_budget_usd, 2.0);
  });

  table.budget(msg::BudgetUpdate{"s", 2, 1.0, 0, 0, 43});  // an older generation
  table.budget(msg::BudgetUpdate{"gone", 1, 1.0, 0, 0, 44});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].id, 43u);
  EXPECT_EQ(errors[0].code, "not_found");
  EXPECT_EQ(errors[1].id, 44u);
  table.fenceAll();
}

}  // namespace
}  // namespace ccmesh::worker
