#include "ccmesh/broker/placement_policy.hpp"

#include <gtest/gtest.h>

#include <map>

namespace ccmesh::broker {
namespace {

TEST(PlacementPolicy, ChoosesLeastLoadedRelativeToCapacity) {
  // w1 would be 6/10 loaded, w2 1/2: w2 wins although it hosts fewer in absolute terms
  // only by accident; w3 would be 3/4.
  std::vector<PlacementCandidate> workers{{"w1", 10, 5}, {"w2", 2, 0}, {"w3", 4, 2}};
  EXPECT_EQ(PlacementPolicy::choose(workers), 1u);
}

TEST(PlacementPolicy, PrefersTheBiggerWorkerWhenAbsoluteCountsAreEqual) {
  std::vector<PlacementCandidate> workers{{"small", 2, 1}, {"big", 8, 1}};
  EXPECT_EQ(PlacementPolicy::choose(workers), 1u);
}

TEST(PlacementPolicy, BreaksTiesByFewestSessionsThenId) {
  // 2/4 == 5/10: the one with fewer sessions wins.
  std::vector<PlacementCandidate> ratio_tie{{"a", 10, 4}, {"b", 4, 1}};
  EXPECT_EQ(PlacementPolicy::choose(ratio_tie), 1u);
  std::vector<PlacementCandidate> full_tie{{"w2", 4, 1}, {"w1", 4, 1}};
  EXPECT_EQ(PlacementPolicy::choose(full_tie), 1u);
}

TEST(PlacementPolicy, SkipsFullWorkers) {
  std::vector<PlacementCandidate> workers{{"w1", 1, 1}, {"w2", 5, 4}, {"w3", 0, 0}};
  EXPECT_EQ(PlacementPolicy::choose(workers), 1u);
}

TEST(PlacementPolicy, ChoosesNothingWithoutRoom) {
  EXPECT_EQ(PlacementPolicy::choose({}), std::nullopt);
  std::vector<PlacementCandidate> full{{"w1", 1, 1}, {"w2", 0, 0}};
  EXPECT_EQ(PlacementPolicy::choose(full), std::nullopt);
  PlacementPolicy policy(full);
  EXPECT_EQ(policy.pick(), std::nullopt);
}

TEST(PlacementPolicy, SpreadsABatchInProportionToCapacity) {
  PlacementPolicy policy({{"w1", 2, 0}, {"w2", 4, 0}});
  std::map<std::string, int> placed;
  for (int i = 0; i < 6; ++i) {
    auto worker = policy.pick();
    ASSERT_TRUE(worker.has_value());
    ++placed[*worker];
  }
  EXPECT_EQ(placed["w1"], 2);
  EXPECT_EQ(placed["w2"], 4);
  EXPECT_EQ(policy.pick(), std::nullopt);
}

TEST(PlacementPolicy, AmongEqualNameLoadsPrefersSpareLiveSlots) {
  // Same name load; w1 runs all 4 CLIs it may, w2 has room for one more.
  std::vector<PlacementCandidate> workers{{"w1", 10, 5, nullptr, 4, 4},
                                          {"w2", 10, 5, nullptr, 4, 3}};
  EXPECT_EQ(PlacementPolicy::choose(workers), 1u);
  // No live budget counts as room to spare.
  std::vector<PlacementCandidate> unlimited{{"w1", 10, 5, nullptr, 2, 2},
                                            {"w2", 10, 5, nullptr, 0, 9}};
  EXPECT_EQ(PlacementPolicy::choose(unlimited), 1u);
  // Both with room: the smaller share of live slots in use wins (3/8 < 2/4).
  std::vector<PlacementCandidate> shares{{"w1", 10, 5, nullptr, 4, 2},
                                         {"w2", 10, 5, nullptr, 8, 3}};
  EXPECT_EQ(PlacementPolicy::choose(shares), 1u);
  // The name load still comes first.
  std::vector<PlacementCandidate> names{{"w1", 10, 4, nullptr, 4, 4}, {"w2", 10, 5, nullptr, 4, 0}};
  EXPECT_EQ(PlacementPolicy::choose(names), 0u);
}

TEST(PlacementPolicy, PlacesOneHundredThousandNamesEvenly) {
  std::vector<PlacementCandidate> workers;
  for (int i = 0; i < 16; ++i) workers.push_back({"w" + std::to_string(i), 10000, 0});
  PlacementPolicy policy(workers);
  std::map<std::string, int> placed;
  for (int i = 0; i < 100000; ++i) ++placed[policy.pick().value()];
  ASSERT_EQ(placed.size(), 16u);
  for (const auto& [id, count] : placed) EXPECT_EQ(count, 6250) << id;
}

}  // namespace
}  // namespace ccmesh::broker
