#include "ccmesh/broker/pool_selector.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace ccmesh::broker {
namespace {

// `count` members, all eligible and placed, none busy.
std::vector<PoolCandidate> idleMembers(std::size_t count) {
  return std::vector<PoolCandidate>(count, PoolCandidate{true, true, 0});
}

// Picks `picks` times, moving the cursor as the broker does; counts picks per member.
std::map<std::size_t, int> pickMany(PoolSelector& selector, PoolStrategy strategy,
                                    const std::vector<PoolCandidate>& candidates, int picks) {
  std::map<std::size_t, int> counts;
  std::size_t cursor = 0;
  for (int i = 0; i < picks; ++i) {
    auto chosen = selector.choose(strategy, candidates, cursor);
    if (!chosen) break;
    ++counts[*chosen];
    cursor = (*chosen + 1) % candidates.size();
  }
  return counts;
}

TEST(PoolSelector, RoundRobinRotatesStrictly) {
  PoolSelector selector(1);
  auto members = idleMembers(4);
  std::vector<std::size_t> order;
  std::size_t cursor = 0;
  for (int i = 0; i < 8; ++i) {
    auto chosen = selector.choose(PoolStrategy::kRoundRobin, members, cursor);
    ASSERT_TRUE(chosen);
    order.push_back(*chosen);
    cursor = *chosen + 1;
  }
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3, 0, 1, 2, 3}));
  auto counts = pickMany(selector, PoolStrategy::kRoundRobin, members, 12);
  EXPECT_EQ(counts, (std::map<std::size_t, int>{{0, 3}, {1, 3}, {2, 3}, {3, 3}}));
}

TEST(PoolSelector, RoundRobinSkipsMembersThatAreNotEligible) {
  PoolSelector selector(1);
  auto members = idleMembers(4);
  members[1].eligible = false;  // checked out, failed or refused
  auto counts = pickMany(selector, PoolStrategy::kRoundRobin, members, 9);
  EXPECT_EQ(counts, (std::map<std::size_t, int>{{0, 3}, {2, 3}, {3, 3}}));
  EXPECT_EQ(selector.choose(PoolStrategy::kRoundRobin, members, 1), 2u) << "wraps past 1";
  EXPECT_EQ(selector.choose(PoolStrategy::kRoundRobin, members, 4), 0u) << "cursor wraps";
}

TEST(PoolSelector, PrefersPlacedMembersAndFallsBackToPendingOnes) {
  PoolSelector selector(1);
  auto members = idleMembers(3);
  members[0].placed = false;  // its worker died; waiting to be placed again
  for (auto strategy :
       {PoolStrategy::kRoundRobin, PoolStrategy::kLeastBusy, PoolStrategy::kRandom}) {
    for (std::size_t cursor = 0; cursor < 3; ++cursor) {
      auto chosen = selector.choose(strategy, members, cursor);
      ASSERT_TRUE(chosen);
      EXPECT_NE(*chosen, 0u) << poolStrategyName(strategy) << " cursor " << cursor;
    }
  }
  for (auto& member : members) member.placed = false;
  EXPECT_EQ(selector.choose(PoolStrategy::kRoundRobin, members, 0), 0u)
      << "with no member placed, a pending one takes the query (it waits for a worker)";
}

TEST(PoolSelector, LeastBusyPicksFewestInFlightWithTiesByRotation) {
  PoolSelector selector(1);
  std::vector<PoolCandidate> members{
      {true, true, 2}, {true, true, 1}, {true, true, 0}, {true, true, 0}};
  EXPECT_EQ(selector.choose(PoolStrategy::kLeastBusy, members, 0), 2u);
  EXPECT_EQ(selector.choose(PoolStrategy::kLeastBusy, members, 3), 3u) << "tie: rotation";
  members[2].in_flight = 5;
  members[3].in_flight = 5;
  EXPECT_EQ(selector.choose(PoolStrategy::kLeastBusy, members, 0), 1u);
}

TEST(PoolSelector, LeastBusyNeverPicksABusyMemberWhileAnotherIsIdle) {
  PoolSelector selector(1);
  auto members = idleMembers(3);
  members[1].in_flight = 1;  // running a long turn
  auto counts = pickMany(selector, PoolStrategy::kLeastBusy, members, 30);
  EXPECT_EQ(counts.count(1), 0u);
  EXPECT_EQ(counts[0], 15);
  EXPECT_EQ(counts[2], 15);
}

TEST(PoolSelector, RandomPicksOnlyEligibleMembersAndReachesEveryOne) {
  PoolSelector selector(42);
  auto members = idleMembers(5);
  members[3].eligible = false;
  auto counts = pickMany(selector, PoolStrategy::kRandom, members, 400);
  EXPECT_EQ(counts.count(3), 0u);
  for (std::size_t i : {0u, 1u, 2u, 4u}) EXPECT_GT(counts[i], 40) << "member " << i;
}

TEST(PoolSelector, NothingWhenNoMemberIsEligible) {
  PoolSelector selector(1);
  EXPECT_FALSE(selector.choose(PoolStrategy::kRoundRobin, {}, 0));
  auto members = idleMembers(2);
  for (auto& member : members) member.eligible = false;
  for (auto strategy :
       {PoolStrategy::kRoundRobin, PoolStrategy::kLeastBusy, PoolStrategy::kRandom}) {
    EXPECT_FALSE(selector.choose(strategy, members, 0)) << poolStrategyName(strategy);
  }
}

TEST(PoolStrategy, WireNamesRoundTripAndEmptyIsRoundRobin) {
  for (auto strategy :
       {PoolStrategy::kRoundRobin, PoolStrategy::kLeastBusy, PoolStrategy::kRandom}) {
    EXPECT_EQ(parsePoolStrategy(poolStrategyName(strategy)), strategy);
  }
  EXPECT_EQ(parsePoolStrategy(""), PoolStrategy::kRoundRobin);
  EXPECT_FALSE(parsePoolStrategy("fastest"));
}

}  // namespace
}  // namespace ccmesh::broker
