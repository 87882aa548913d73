#include "ccmesh/worker/live_budget.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <vector>

#include "ccmesh/worker/rss_probe.hpp"

namespace ccmesh::worker {
namespace {

TimePoint at(int64_t ms) { return TimePoint{} + Millis(ms); }

TEST(LiveBudget, GrantsEverySlotWithoutALimit) {
  LiveBudget budget(0);
  for (uint64_t holder = 1; holder <= 1000; ++holder) EXPECT_TRUE(budget.acquire(holder));
  EXPECT_EQ(budget.live(), 1000u);
  EXPECT_EQ(budget.waiting(), 0u);
}

TEST(LiveBudget, QueuesBeyondTheLimitAndAdmitsInArrivalOrder) {
  LiveBudget budget(2);
  EXPECT_TRUE(budget.acquire(1));
  EXPECT_TRUE(budget.acquire(2));
  EXPECT_FALSE(budget.acquire(3));
  EXPECT_FALSE(budget.acquire(4));
  EXPECT_FALSE(budget.acquire(3));  // asking again does not queue twice
  EXPECT_EQ(budget.live(), 2u);
  EXPECT_EQ(budget.waiting(), 2u);
  EXPECT_TRUE(budget.admit().empty());  // no slot is free yet

  budget.release(2);
  EXPECT_EQ(budget.admit(), (std::vector<uint64_t>{3}));
  EXPECT_TRUE(budget.holds(3));
  budget.release(1);
  EXPECT_EQ(budget.admit(), (std::vector<uint64_t>{4}));
  EXPECT_EQ(budget.live(), 2u);
  EXPECT_EQ(budget.waiting(), 0u);
}

TEST(LiveBudget, AFreedSlotGoesToTheOldestWaiterNotANewcomer) {
  LiveBudget budget(1);
  EXPECT_TRUE(budget.acquire(1));
  EXPECT_FALSE(budget.acquire(2));
  budget.release(1);
  EXPECT_FALSE(budget.acquire(3));  // 2 waited first
  EXPECT_EQ(budget.admit(), (std::vector<uint64_t>{2}));
  EXPECT_EQ(budget.waiting(), 1u);
}

TEST(LiveBudget, ReleasingAWaiterWithdrawsItAndUnknownHoldersAreIgnored) {
  LiveBudget budget(1);
  EXPECT_TRUE(budget.acquire(1));
  EXPECT_FALSE(budget.acquire(2));
  budget.release(2);
  budget.release(99);
  EXPECT_EQ(budget.waiting(), 0u);
  EXPECT_EQ(budget.live(), 1u);
  EXPECT_TRUE(budget.acquire(1));  // a holder asking again keeps its slot
  EXPECT_EQ(budget.live(), 1u);
}

TEST(LiveBudget, LeastRecentlyUsedIsTheOldestLastUse) {
  std::vector<IdleHolder> idle{{7, at(300)}, {3, at(100)}, {9, at(200)}};
  EXPECT_EQ(LiveBudget::leastRecentlyUsed(idle), 1u);
  idle.erase(idle.begin() + 1);
  EXPECT_EQ(LiveBudget::leastRecentlyUsed(idle), 1u);  // holder 9 at 200
}

TEST(LiveBudget, LeastRecentlyUsedBreaksTiesByNumberAndHandlesNone) {
  std::vector<IdleHolder> tie{{8, at(100)}, {4, at(100)}, {6, at(100)}};
  EXPECT_EQ(LiveBudget::leastRecentlyUsed(tie), 1u);
  EXPECT_EQ(LiveBudget::leastRecentlyUsed({}), std::nullopt);
}

TEST(RssProbe, ReadsThisProcessAndNothingForAMissingOne) {
  auto self = RssProbe::residentKb(::getpid());
  ASSERT_TRUE(self);
  EXPECT_GT(*self, 100u);
  // Touch 32 MiB: the probe sees it.
  std::vector<char> block(32u << 20, 'x');
  auto grown = RssProbe::residentKb(::getpid());
  ASSERT_TRUE(grown);
  EXPECT_GE(*grown + 1024, *self + (32u << 10)) << block[block.size() / 2];
  EXPECT_EQ(RssProbe::residentKb(-5), std::nullopt);
}

}  // namespace
}  // namespace ccmesh::worker
