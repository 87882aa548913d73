#include "ccmesh/broker/request_table.hpp"

#include <gtest/gtest.h>

namespace ccmesh::broker {
namespace {

using std::chrono::milliseconds;

TEST(RequestTable, GivesEachRequestItsOwnBrokerIdAndMapsBack) {
  ManualClock clock;
  RequestTable table;
  auto now = clock.now();
  // Two clients may use the same id: ids are scoped to a connection.
  auto* a = table.add("client-a", 7, RequestKind::kQuery, "s1", now, now);
  auto* b = table.add("client-b", 7, RequestKind::kQuery, "s1", now, now);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->id, 0u);
  EXPECT_NE(a->id, b->id);
  const uint64_t a_id = a->id;
  const uint64_t b_id = b->id;
  EXPECT_EQ(table.find(a_id)->client, "client-a");
  EXPECT_EQ(table.find(a_id)->client_id, 7u);
  EXPECT_EQ(table.findByClient("client-b", 7)->id, b_id);
  EXPECT_EQ(table.findByClient("client-c", 7), nullptr);
}

TEST(RequestTable, RefusesAClientIdAlreadyInFlight) {
  RequestTable table;
  TimePoint now{};
  ASSERT_NE(table.add("c", 1, RequestKind::kQuery, "s", now, now), nullptr);
  EXPECT_EQ(table.add("c", 1, RequestKind::kStart, "t", now, now), nullptr);
  EXPECT_EQ(table.size(), 1u);
}

TEST(RequestTable, FindsRequestsToCancelByClientId) {
  RequestTable table;
  TimePoint now{};
  table.add("c", 1, RequestKind::kQuery, "s", now, now);
  const uint64_t id = table.add("c", 2, RequestKind::kQuery, "s", now, now)->id;
  table.add("other", 2, RequestKind::kQuery, "s", now, now);
  EXPECT_EQ(table.findByClient("c", 2)->id, id);
  EXPECT_EQ(table.ofClient("c").size(), 2u);
  auto taken = table.take(id);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->client_id, 2u);
  EXPECT_EQ(table.findByClient("c", 2), nullptr);
  EXPECT_EQ(table.find(id), nullptr);
  EXPECT_FALSE(table.take(id).has_value());
  EXPECT_NE(table.add("c", 2, RequestKind::kQuery, "s", now, now), nullptr)
      << "an id is free again once its request ended";
}

TEST(RequestTable, ExpiresRequestsAsTheClockPassesTheirDeadlines) {
  ManualClock clock;
  RequestTable table;
  const auto now = clock.now();
  const uint64_t late =
      table.add("c", 1, RequestKind::kQuery, "s", now, now + milliseconds(100))->id;
  const uint64_t early =
      table.add("c", 2, RequestKind::kQuery, "s", now, now + milliseconds(50))->id;
  EXPECT_TRUE(table.expired(clock.now()).empty());
  EXPECT_EQ(table.nextDeadline(), now + milliseconds(50));
  clock.advance(milliseconds(60));
  EXPECT_EQ(table.expired(clock.now()), std::vector<uint64_t>{early});
  clock.advance(milliseconds(40));
  EXPECT_EQ(table.expired(clock.now()), (std::vector<uint64_t>{early, late}));
  table.setDeadline(early, clock.now() + milliseconds(500));
  EXPECT_EQ(table.expired(clock.now()), std::vector<uint64_t>{late});
  table.take(late);
  EXPECT_EQ(table.nextDeadline(), clock.now() + milliseconds(500));
  table.take(early);
  EXPECT_EQ(table.nextDeadline(), std::nullopt);
}

TEST(RequestTable, ListsRequestsForwardedToAWorkerInArrivalOrder) {
  RequestTable table;
  TimePoint now{};
  std::vector<uint64_t> ids;
  for (uint64_t i = 1; i <= 4; ++i) {
    auto* request = table.add("c", i, RequestKind::kQuery, "s", now, now);
    request->worker = i % 2 ? "w1" : "w2";
    ids.push_back(request->id);
  }
  EXPECT_EQ(table.forwardedTo("w1"), (std::vector<uint64_t>{ids[0], ids[2]}));
  EXPECT_EQ(table.forwardedTo("w2"), (std::vector<uint64_t>{ids[1], ids[3]}));
  EXPECT_TRUE(table.forwardedTo("").empty());
}

TEST(RequestTable, CountsQueriesPerSession) {
  RequestTable table;
  TimePoint now{};
  const uint64_t q1 = table.add("c", 1, RequestKind::kQuery, "s", now, now)->id;
  table.add("c", 2, RequestKind::kQuery, "s", now, now);
  table.add("c", 3, RequestKind::kRestart, "s", now, now);
  table.add("c", 4, RequestKind::kQuery, "t", now, now);
  EXPECT_EQ(table.queriesOf("s"), 2u);
  EXPECT_EQ(table.queriesOf("t"), 1u);
  table.take(q1);
  EXPECT_EQ(table.queriesOf("s"), 1u);
  EXPECT_EQ(table.queriesOf("nobody"), 0u);
}

TEST(RequestTable, KeepsABoundedPartialAnswer) {
  BrokerRequest request;
  RequestTable::appendPartial(request, "Hello, ");
  RequestTable::appendPartial(request, "world");
  EXPECT_EQ(request.partial, "Hello, world");
  RequestTable::appendPartial(request, std::string(RequestTable::kMaxPartialBytes, 'x'));
  EXPECT_EQ(request.partial.size(), RequestTable::kMaxPartialBytes);
}

}  // namespace
}  // namespace ccmesh::broker
