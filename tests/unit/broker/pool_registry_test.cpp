#include "ccmesh/broker/pool_registry.hpp"

#include <gtest/gtest.h>

namespace ccmesh::broker {
namespace {

// A registry with pool "p" of members p/0 .. p/2.
class PoolRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = registry_.add("p", PoolStrategy::kRoundRobin, true, {});
    ASSERT_NE(pool_, nullptr);
    for (const char* name : {"p/0", "p/1", "p/2"}) ASSERT_TRUE(registry_.addMember(*pool_, name));
  }

  TimePoint at(int ms) const { return TimePoint{} + Millis(ms); }

  PoolRegistry registry_;
  PoolEntry* pool_ = nullptr;
};

TEST_F(PoolRegistryTest, KnowsWhichPoolEachMemberBelongsTo) {
  EXPECT_EQ(registry_.add("p", PoolStrategy::kRandom, false, {}), nullptr) << "name taken";
  ASSERT_NE(registry_.poolOf("p/1"), nullptr);
  EXPECT_EQ(*registry_.poolOf("p/1"), "p");
  auto* other = registry_.add("q", PoolStrategy::kLeastBusy, false, {});
  EXPECT_FALSE(registry_.addMember(*other, "p/1")) << "a session is in one pool at most";
  EXPECT_TRUE(registry_.addMember(*other, "solo"));
  EXPECT_TRUE(registry_.removeMember(*pool_, "p/1"));
  EXPECT_EQ(registry_.poolOf("p/1"), nullptr);
  EXPECT_TRUE(registry_.remove("q"));
  EXPECT_EQ(registry_.poolOf("solo"), nullptr);
  EXPECT_EQ(registry_.size(), 1u);
}

TEST_F(PoolRegistryTest, AddsMembersAtAPositionAndKeepsTheRotationWhenOneLeaves) {
  ASSERT_TRUE(registry_.addMember(*pool_, "p/5", 1));
  EXPECT_EQ(pool_->members[1].name, "p/5");
  pool_->cursor = 3;  // the next pick starts at p/2
  ASSERT_TRUE(registry_.removeMember(*pool_, "p/5"));
  EXPECT_EQ(pool_->members[pool_->cursor].name, "p/2");
}

TEST_F(PoolRegistryTest, LapsedLeasesAreReclaimedAndCounted) {
  auto& member = pool_->members[1];
  const uint64_t lease = registry_.checkOut(*pool_, member, at(200));
  EXPECT_NE(lease, 0u);
  EXPECT_EQ(registry_.nextDeadline(), at(200));
  EXPECT_TRUE(registry_.reclaimLapsed(at(199)).empty());
  EXPECT_EQ(member.lease_id, lease);
  const std::vector<std::pair<std::string, std::string>> reclaimed{{"p", member.name}};
  EXPECT_EQ(registry_.reclaimLapsed(at(200)), reclaimed);
  EXPECT_EQ(member.lease_id, 0u);
  EXPECT_EQ(pool_->reclaims, 1u);
  EXPECT_FALSE(registry_.nextDeadline());
}

TEST_F(PoolRegistryTest, CheckInEndsTheLeaseWithoutCountingAReclaim) {
  auto& member = pool_->members[0];
  const uint64_t first = registry_.checkOut(*pool_, member, at(100));
  EXPECT_TRUE(registry_.checkIn(*pool_, member));
  EXPECT_FALSE(registry_.checkIn(*pool_, member)) << "not checked out any more";
  EXPECT_TRUE(registry_.reclaimLapsed(at(1000)).empty());
  EXPECT_EQ(pool_->reclaims, 0u);
  EXPECT_GT(registry_.checkOut(*pool_, member, at(100)), first) << "lease ids are never reused";
}

TEST_F(PoolRegistryTest, WaitingCheckoutsLeaveInOrderOrAtTheirDeadline) {
  registry_.addWaiting(*pool_, {"c1", "", 1, Millis(10), at(300)});
  registry_.addWaiting(*pool_, {"c2", "", 2, Millis(10), at(100)});
  registry_.addWaiting(*pool_, {"c3", "", 3, Millis(10), at(500)});
  EXPECT_EQ(registry_.nextDeadline(), at(100));
  auto expired = registry_.takeExpiredWaiting(at(100));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].first, "p");
  EXPECT_EQ(expired[0].second.client, "c2");
  auto oldest = registry_.takeWaiting(*pool_);
  ASSERT_TRUE(oldest);
  EXPECT_EQ(oldest->client, "c1");
  EXPECT_EQ(registry_.nextDeadline(), at(500));
  EXPECT_TRUE(registry_.remove("p"));
  EXPECT_FALSE(registry_.nextDeadline()) << "a removed pool's waiting checkouts go with it";
}

TEST_F(PoolRegistryTest, ACancelledWaitingCheckoutLeavesItsQueueAndItsClientsCount) {
  registry_.addWaiting(*pool_, {"c1", "", 1, Millis(10), at(300)});
  registry_.addWaiting(*pool_, {"c1", "", 2, Millis(10), at(100)});
  registry_.addWaiting(*pool_, {"c2", "", 1, Millis(10), at(200)});
  EXPECT_EQ(registry_.waitingOf("c1"), 2u);
  EXPECT_EQ(registry_.waitingOf("c2"), 1u);
  EXPECT_FALSE(registry_.cancelWaiting("c2", 2)) << "not one of c2's";
  EXPECT_EQ(registry_.cancelWaiting("c1", 2), "p");
  EXPECT_EQ(registry_.waitingOf("c1"), 1u);
  EXPECT_EQ(registry_.nextDeadline(), at(200)) << "its deadline went with it";
  EXPECT_TRUE(registry_.takeExpiredWaiting(at(250)).size() == 1u);
  EXPECT_EQ(registry_.waitingOf("c2"), 0u);
  auto left = registry_.takeWaiting(*pool_);
  ASSERT_TRUE(left);
  EXPECT_EQ(left->client_id, 1u);
  EXPECT_EQ(registry_.waitingOf("c1"), 0u);
  EXPECT_FALSE(registry_.takeWaiting(*pool_));
}

}  // namespace
}  // namespace ccmesh::broker
