#include "ccmesh/broker/session_registry.hpp"

#include <gtest/gtest.h>

namespace ccmesh::broker {
namespace {

TEST(SessionRegistry, RegistersANameOnceAsPending) {
  SessionRegistry registry;
  SessionOptions options;
  options.model = "sonnet";
  EXPECT_TRUE(registry.add("s1", options));
  EXPECT_FALSE(registry.add("s1", {}));
  ASSERT_NE(registry.find("s1"), nullptr);
  EXPECT_EQ(registry.find("s1")->options.model, "sonnet");
  EXPECT_EQ(registry.find("s1")->state, session_state::kPending);
  EXPECT_EQ(registry.find("s1")->generation, 0u);
  EXPECT_EQ(registry.pendingCount(), 1u);
}

TEST(SessionRegistry, UnregisteringFreesTheName) {
  SessionRegistry registry;
  registry.add("s1", {});
  registry.place("s1", "w1");
  EXPECT_TRUE(registry.remove("s1"));
  EXPECT_FALSE(registry.remove("s1"));
  EXPECT_EQ(registry.find("s1"), nullptr);
  EXPECT_EQ(registry.countOn("w1"), 0u);
  EXPECT_EQ(registry.pendingCount(), 0u);
  EXPECT_TRUE(registry.add("s1", {}));
}

TEST(SessionRegistry, GenerationGrowsOnEveryPlacement) {
  SessionRegistry registry;
  registry.add("s1", {});
  EXPECT_EQ(registry.place("s1", "w1"), 1u);
  EXPECT_EQ(registry.find("s1")->state, session_state::kStarting);
  EXPECT_EQ(registry.pendingCount(), 0u);
  registry.unplace("s1");
  EXPECT_EQ(registry.find("s1")->generation, 1u) << "unplacing keeps the generation";
  EXPECT_EQ(registry.place("s1", "w2"), 2u);
  EXPECT_EQ(registry.place("s1", "w1"), 3u) << "moving directly also counts";
  EXPECT_EQ(registry.countOn("w2"), 0u);
  EXPECT_EQ(registry.countOn("w1"), 1u);
}

TEST(SessionRegistry, MovesNamesOffDeadWorkerToPending) {
  SessionRegistry registry;
  for (const char* name : {"a", "b", "c"}) registry.add(name, {});
  registry.place("a", "w1");
  registry.place("b", "w1");
  registry.place("c", "w2");
  auto released = registry.releaseWorker("w1");
  EXPECT_EQ(released, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(registry.countOn("w1"), 0u);
  EXPECT_EQ(registry.countOn("w2"), 1u);
  EXPECT_EQ(registry.pendingCount(), 2u);
  EXPECT_TRUE(registry.find("a")->worker.empty());
  EXPECT_EQ(registry.find("a")->state, session_state::kPending);
  EXPECT_EQ(registry.find("c")->worker, "w2");
  EXPECT_TRUE(registry.releaseWorker("w1").empty());
}

TEST(SessionRegistry, AdoptsAReportedSessionAtItsGeneration) {
  SessionRegistry registry;
  SessionOptions options;
  options.cwd = "/tmp";
  auto& entry = registry.adopt("s1", options, "w3", 7);
  EXPECT_EQ(entry.worker, "w3");
  EXPECT_EQ(entry.generation, 7u);
  EXPECT_EQ(entry.options.cwd, "/tmp");
  EXPECT_EQ(registry.countOn("w3"), 1u);
  EXPECT_EQ(registry.place("s1", "w4"), 8u) << "later placements stay newer";
}

TEST(SessionRegistry, AppliesWorkerUpdates) {
  SessionRegistry registry;
  registry.add("s1", {});
  registry.place("s1", "w1");
  msg::SessionUpdate update{"s1", 1, "idle", 4242, "uuid-1", 2, 5, "boom"};
  SessionRegistry::applyUpdate(*registry.find("s1"), update);
  const auto* entry = registry.find("s1");
  EXPECT_EQ(entry->state, "idle");
  EXPECT_EQ(entry->pid, 4242);
  EXPECT_EQ(entry->session_id, "uuid-1");
  EXPECT_EQ(entry->restarts, 2u);
  EXPECT_EQ(entry->turns, 5u);
  EXPECT_EQ(entry->last_error, "boom");
}

}  // namespace
}  // namespace ccmesh::broker
