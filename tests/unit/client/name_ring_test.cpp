#include "ccmesh/client/name_ring.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ccmesh::client {
namespace {

std::vector<std::string> clusters(std::size_t count) {
  std::vector<std::string> list;
  for (std::size_t i = 0; i < count; ++i) list.push_back("cluster-" + std::to_string(i));
  return list;
}

std::string user(std::size_t i) { return "user-" + std::to_string(i); }

TEST(NameRingTest, TheHashIsFixedSoClientsOfEveryLanguageAgree) {
  // FNV-1a 64 of "" is its offset basis; the finaliser then mixes it. Pinned: changing the
  // hash would send every name of a running fleet to another cluster.
  EXPECT_EQ(NameRing::hash(""), 0xefd01f60ba992926ull);
  EXPECT_NE(NameRing::hash("user-1"), NameRing::hash("user-2"));
}

TEST(NameRingTest, EveryRingOfTheSameClustersSendsANameToTheSameCluster) {
  const NameRing one(clusters(5));
  const NameRing other(clusters(5));
  for (std::size_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(one.clusterOf(user(i)), other.clusterOf(user(i)));
    EXPECT_EQ(one.clusterOf(user(i)), one.clusters()[one.indexOf(user(i))]);
  }
}

TEST(NameRingTest, NamesSpreadEvenlyOverTheClusters) {
  const NameRing ring(clusters(4));
  std::map<std::string, std::size_t> per_cluster;
  constexpr std::size_t kNames = 100000;
  for (std::size_t i = 0; i < kNames; ++i) ++per_cluster[ring.clusterOf(user(i))];
  ASSERT_EQ(per_cluster.size(), 4u);
  for (const auto& [cluster, names] : per_cluster) {
    EXPECT_GT(names, kNames / 4 * 80 / 100) << cluster;
    EXPECT_LT(names, kNames / 4 * 120 / 100) << cluster;
  }
}

TEST(NameRingTest, AddingAClusterMovesAFifthOfTheNamesAllToIt) {
  const NameRing four(clusters(4));
  const NameRing five(clusters(5));
  constexpr std::size_t kNames = 100000;
  std::size_t moved = 0;
  for (std::size_t i = 0; i < kNames; ++i) {
    const auto& before = four.clusterOf(user(i));
    const auto& after = five.clusterOf(user(i));
    if (before == after) continue;
    ++moved;
    EXPECT_EQ(after, "cluster-4") << user(i) << " moved between old clusters";
  }
  EXPECT_GT(moved, kNames / 5 * 80 / 100);
  EXPECT_LT(moved, kNames / 5 * 120 / 100);
}

TEST(NameRingTest, AnEmptyOrRepeatedListIsRefused) {
  EXPECT_THROW(NameRing({}), std::invalid_argument);
  EXPECT_THROW(NameRing({"a", "b", "a"}), std::invalid_argument);
  const NameRing single({"only"});
  EXPECT_EQ(single.clusterOf("anything"), "only");
}

}  // namespace
}  // namespace ccmesh::client
