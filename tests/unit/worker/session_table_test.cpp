// SessionTable against the real mock CLI, with a manual clock: a burst of assignments (a
// failover brings a hundred at once) spawns its CLIs a few per loop round.
#include "session_table.hpp"

#include <gtest/gtest.h>

#include <string>
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

}  // namespace
}  // namespace ccmesh::worker
