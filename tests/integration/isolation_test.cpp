// One session's flood or crash loop does not stop its neighbours on the same worker. The
// latency comparison lives in the isolation benchmark; this test checks the behaviour.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

TEST(Isolation, HealthySessionKeepsAnsweringBesideAFloodAndACrashLoop) {
  Cluster cluster;
  cluster.startWorker("w1");
  auto admin = cluster.client();
  SessionOptions crashy;
  crashy.max_restarts = 1000;
  ASSERT_TRUE(admin->start("healthy").ok());
  ASSERT_TRUE(admin->start("flood").ok());
  ASSERT_TRUE(admin->start("crashy", crashy).ok());

  std::atomic<bool> done{false};
  std::atomic<int> floods{0};
  std::atomic<int> crashes{0};
  std::thread flooder([&] {
    auto client = cluster.client();
    while (!done) {
      auto big = client->query("flood", "/big 20000000");
      if (big.ok() && big->text.size() == 20000000u) ++floods;
    }
  });
  std::thread crasher([&] {
    auto client = cluster.client();
    while (!done) {
      auto crashed = client->query("crashy", "/crash");
      if (!crashed.ok() && crashed.error().code == ErrorCode::kSessionCrashed) ++crashes;
    }
  });

  auto client = cluster.client();
  ASSERT_TRUE(waitFor([&] { return floods > 0 && crashes > 0; })) << cluster.logs();
  for (int i = 1; i <= 20; ++i) {
    auto reply = client->query("healthy", "ping " + std::to_string(i));
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_EQ(reply->text, "turn " + std::to_string(i) + ": ping " + std::to_string(i));
  }
  done = true;
  flooder.join();
  crasher.join();
  EXPECT_GT(floods.load(), 0);
  EXPECT_GT(crashes.load(), 0);
}

}  // namespace
}  // namespace ccmesh::test
