// A leader cut off from etcd while its clients and workers still reach it stops serving
// before a standby starts: sampled from outside, the two brokers never serve at once.
// etcd runs in a network namespace of its own with one link per broker, so the test cuts
// exactly one broker's way to etcd (needs root, as the partition tests do).
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

#include "harness/ha_cluster.hpp"
#include "harness/network_lab.hpp"
#include "harness/wait_for.hpp"

namespace ccmesh::test {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// One look at one broker: whether it answered `status` as the one serving, and when the
// question left and the answer came.
struct Sample {
  std::string broker;
  bool serving = false;
  SteadyTime asked;
  SteadyTime answered;
};

class EtcdPartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = NetworkLab::unavailableReason()) {
      GTEST_SKIP() << "network namespaces unavailable: " << *reason;
    }
    lab_ = std::make_unique<NetworkLab>();
    etcd_host_ = lab_->addHost("etcd");
    to_b1_ = lab_->connect("", etcd_host_);
    to_b2_ = lab_->connect("", etcd_host_);
    cluster_ = std::make_unique<HaCluster>(
        EtcdPlacement{lab_->runIn(etcd_host_), {to_b1_.address_b, to_b2_.address_b}});
  }

  // Asks both brokers in turn until `stop`, recording every answer.
  void sample(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      for (const std::string name : {"b1", "b2"}) {
        Sample one{name, false, std::chrono::steady_clock::now(), {}};
        auto answer = askStatusAlone(cluster_->endpoints(name).frontend, Millis(500));
        one.answered = std::chrono::steady_clock::now();
        one.serving = answer && answer->type == MessageType::kResult;
        std::lock_guard lock(samples_mutex_);
        samples_.push_back(one);
      }
    }
  }

  std::unique_ptr<NetworkLab> lab_;
  std::string etcd_host_;
  NetworkLab::Link to_b1_;
  NetworkLab::Link to_b2_;
  std::unique_ptr<HaCluster> cluster_;
  std::mutex samples_mutex_;
  std::vector<Sample> samples_;
};

TEST_F(EtcdPartitionTest, LeaderCutOffFromEtcdStopsServingBeforeTheStandbyStarts) {
  auto& cluster = *cluster_;
  cluster.startBroker("b1", cluster.etcd().urlAt(to_b1_.address_b));
  ASSERT_EQ(cluster.waitForLeader(), "b1");
  cluster.startBroker("b2", cluster.etcd().urlAt(to_b2_.address_b));
  cluster.startWorker("w1");
  ASSERT_EQ(cluster.waitForLeader(1), "b1");
  auto client = cluster.client(Millis(5000));
  ASSERT_TRUE(client->start("s1", {})) << cluster.logs();
  auto answer = client->query("s1", "one");
  ASSERT_TRUE(answer) << answer.error().message;
  const int64_t pid = client->info("s1")->pid;

  std::atomic<bool> stop{false};
  std::thread sampler([&] { sample(stop); });
  // b1 still hears its clients and its worker, but no longer etcd.
  lab_->setLinkUp(etcd_host_, to_b1_.device_b, false);
  const bool handed_over = waitFor([&] { return cluster.leader() == std::optional("b2"); });
  // A few rounds of samples with b2 serving.
  waitFor([&] {
    std::lock_guard lock(samples_mutex_);
    int seen = 0;
    for (const auto& one : samples_) seen += one.broker == "b2" && one.serving ? 1 : 0;
    return seen >= 5;
  });
  stop = true;
  sampler.join();
  ASSERT_TRUE(handed_over) << cluster.logs();

  // The last time b1 was seen serving ended before b2 was first seen serving.
  std::optional<SteadyTime> b1_last_serving;
  std::optional<SteadyTime> b2_first_serving;
  for (const auto& one : samples_) {
    if (!one.serving) continue;
    if (one.broker == "b1") b1_last_serving = one.answered;
    if (one.broker == "b2" && !b2_first_serving) b2_first_serving = one.asked;
  }
  ASSERT_TRUE(b1_last_serving) << "b1 was never seen serving after the cut";
  ASSERT_TRUE(b2_first_serving);
  EXPECT_LT(*b1_last_serving, *b2_first_serving) << "two brokers served at the same time";
  const auto gap = std::chrono::duration_cast<Millis>(*b2_first_serving - *b1_last_serving);
  std::cout << "no broker served for " << gap.count() << " ms between the two terms ("
            << samples_.size() << " samples)\n";

  // The session answers again from b2, with the same CLI.
  std::string last;
  ASSERT_TRUE(waitFor([&] {
    auto again = client->query("s1", "two");
    last = again ? again->text : again.error().message;
    return again.ok();
  })) << last
      << cluster.logs();
  EXPECT_EQ(client->info("s1")->pid, pid);

  // Back in touch with etcd, b1 serves no more: it is a standby of b2.
  lab_->setLinkUp(etcd_host_, to_b1_.device_b, true);
  ASSERT_TRUE(waitFor([&] {
    auto status = cluster.client()->status();
    return status && status->ha.name == "b2" && status->ha.members.size() == 2;
  })) << cluster.logs();
  EXPECT_EQ(cluster.leader(), std::optional<std::string>("b2"));
}

}  // namespace
}  // namespace ccmesh::test
