// Pools through real broker, worker and mock CLI processes on loopback.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

class PoolTest : public ::testing::Test {
 protected:
  // A broker (extra arguments) and workers w1, w2 (extra worker arguments).
  void startCluster(std::vector<std::string> broker_args = {},
                    std::vector<std::string> worker_args = {}) {
    cluster_ = std::make_unique<Cluster>(std::move(broker_args));
    cluster_->startWorker("w1", worker_args);
    cluster_->startWorker("w2", worker_args);
    client_ = cluster_->client();
  }

  // Creates pool `name` of `size` new members and waits until every member is idle.
  msg::PoolInfo createPool(const std::string& name, uint32_t size,
                           const std::string& strategy = {}) {
    client::PoolCreateOptions options;
    options.size = size;
    options.strategy = strategy;
    auto created = client_->poolCreate(name, options);
    EXPECT_TRUE(created.ok()) << created.error().message << cluster_->logs();
    EXPECT_TRUE(waitForIdle(name)) << cluster_->logs();
    return *client_->poolInfo(name);
  }

  // Waits until every member of a pool is idle (on some worker).
  bool waitForIdle(const std::string& name) {
    return waitFor([&] {
      auto info = client_->poolInfo(name);
      if (!info) return false;
      for (const auto& member : info->members) {
        if (member.state != "idle") return false;
      }
      return !info->members.empty();
    });
  }

  // A member's row in pool_info.
  std::optional<msg::PoolMemberInfo> member(const std::string& pool, const std::string& name) {
    auto info = client_->poolInfo(pool);
    if (!info) return std::nullopt;
    for (const auto& m : info->members) {
      if (m.name == name) return m;
    }
    return std::nullopt;
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(PoolTest, RoundRobinGivesEachOfFourMembersThreeOfTwelveQueries) {
  startCluster();
  auto info = createPool("p", 4);
  std::set<std::string> workers;
  for (const auto& m : info.members) workers.insert(m.worker);
  EXPECT_EQ(workers, (std::set<std::string>{"w1", "w2"})) << "members spread over the workers";

  std::map<std::string, int> answered;
  for (int i = 0; i < 12; ++i) {
    auto reply = client_->poolQuery("p", "q" + std::to_string(i));
    ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
    EXPECT_EQ(reply->pool, "p");
    ++answered[reply->session];
  }
  EXPECT_EQ(answered, (std::map<std::string, int>{{"p/0", 3}, {"p/1", 3}, {"p/2", 3}, {"p/3", 3}}));
  auto after = client_->poolInfo("p");
  ASSERT_TRUE(after.ok());
  for (const auto& m : after->members) {
    EXPECT_EQ(m.served, 3u) << m.name;
    EXPECT_EQ(m.turns, 3u) << m.name;
  }
}

TEST_F(PoolTest, StreamsAPoolQueryAndNamesTheMember) {
  startCluster();
  createPool("p", 2);
  client::QueryOptions options;
  options.stream = true;
  std::string joined;
  auto reply = client_->poolQuery("p", "/sleep 100", options,
                                  [&](const msg::Event& event) { joined += event.text; });
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->session, "p/0");
  EXPECT_EQ(joined, reply->text);
  EXPECT_EQ(reply->text, "turn 1: /sleep 100");
}

// One member runs a turn that never ends (/hang); every least_busy query goes elsewhere.
TEST_F(PoolTest, LeastBusyNeverPicksAMemberRunningATurnWhileAnotherIsIdle) {
  startCluster();
  createPool("p", 3, "least_busy");
  const uint64_t hang = client_->sendQuery("p/1", "/hang");
  ASSERT_TRUE(waitFor([&] {
    auto busy = member("p", "p/1");
    return busy && busy->state == "busy" && busy->queue_depth == 1;
  })) << cluster_->logs();
  std::map<std::string, int> answered;
  for (int i = 0; i < 9; ++i) {
    auto reply = client_->poolQuery("p", "q" + std::to_string(i));
    ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
    ++answered[reply->session];
  }
  EXPECT_EQ(answered.count("p/1"), 0u);
  EXPECT_EQ(answered["p/0"] + answered["p/2"], 9);
  EXPECT_GT(answered["p/0"], 0) << "ties go round";
  EXPECT_GT(answered["p/2"], 0) << "ties go round";

  client_->cancel(hang);
  auto cancelled = client_->receive(kEventDeadline);
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->id, hang);
  EXPECT_EQ(cancelled->error.code, ErrorCode::kCancelled);
}

// Workers queue one prompt behind the running one: two members hold two prompts each, and
// the next pool query is refused by both.
TEST_F(PoolTest, AnswersPoolExhaustedWhenEveryMembersQueueIsFull) {
  startCluster({}, {"--queue-depth", "1"});
  createPool("p", 2);
  std::vector<uint64_t> hangs;
  std::vector<uint64_t> queued;
  for (const char* name : {"p/0", "p/1"}) {
    hangs.push_back(client_->sendQuery(name, "/hang"));
    queued.push_back(client_->sendQuery(name, "behind"));
  }
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->poolInfo("p");
    if (!info) return false;
    for (const auto& m : info->members) {
      if (m.state != "busy" || m.queue_depth != 2) return false;
    }
    return true;
  })) << cluster_->logs();

  auto refused = client_->poolQuery("p", "one too many");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kPoolExhausted) << refused.error().message;
  auto info = client_->poolInfo("p");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->exhausted, 1u);

  for (uint64_t id : hangs) client_->cancel(id);
  std::set<uint64_t> finished;
  while (finished.size() < 4) {
    auto reply = client_->receive(kEventDeadline);
    ASSERT_TRUE(reply) << "replies missing" << cluster_->logs();
    if (reply->type != MessageType::kEvent) finished.insert(reply->id);
  }
  auto after = client_->poolQuery("p", "room again");
  EXPECT_TRUE(after.ok()) << after.error().message;
}

// Fifty clients on fifty threads check out a five-member pool at once: no member is held
// twice at any moment, and every one comes back.
TEST_F(PoolTest, FiftyConcurrentCheckoutsNeverHandOutAMemberTwice) {
  startCluster();
  createPool("p", 5);
  std::mutex mutex;
  std::set<std::string> held;  // members checked out now, by this test's view
  std::atomic<int> doubled{0};
  std::atomic<int> completed{0};
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < 50; ++t) {
    threads.emplace_back([&] {
      auto client = cluster_->client();
      auto checkout = client->checkout("p", Millis(30000));
      if (!checkout) {
        std::lock_guard lock(mutex);
        failures.push_back("checkout: " + checkout.error().message);
        return;
      }
      {
        std::lock_guard lock(mutex);
        if (!held.insert(checkout->member).second) ++doubled;
      }
      // While this thread holds it, the broker must show the member checked out under this
      // thread's own lease (and nobody else's).
      auto info = client->poolInfo("p");
      std::string wrong;
      if (!info) {
        wrong = "pool info: " + info.error().message;
      } else {
        bool seen = false;
        for (const auto& m : info->members) {
          if (m.name != checkout->member) continue;
          seen = true;
          if (!m.checked_out || m.lease_id != checkout->lease_id) {
            wrong = m.name + " shows lease " + std::to_string(m.lease_id) + " while held under " +
                    std::to_string(checkout->lease_id);
          }
        }
        if (!seen) wrong = checkout->member + " missing from pool info";
      }
      {
        std::lock_guard lock(mutex);
        if (!wrong.empty()) failures.push_back(wrong);
        held.erase(checkout->member);
      }
      auto checkin = client->checkin("p", checkout->member, checkout->lease_id);
      if (!checkin) {
        std::lock_guard lock(mutex);
        failures.push_back("checkin: " + checkin.error().message);
        return;
      }
      ++completed;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failure(s), first: " << failures.front()
                                << cluster_->logs();
  EXPECT_EQ(doubled.load(), 0);
  EXPECT_EQ(completed.load(), 50);
  auto info = client_->poolInfo("p");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->checked_out, 0u);
  EXPECT_EQ(info->waiting_checkouts, 0u);
  EXPECT_EQ(info->reclaims, 0u);
}

// A checkout waits for the only member; its client gives up (cancel). The member, checked in,
// goes to the next checkout, not to the abandoned one.
TEST_F(PoolTest, ACancelledWaitingCheckoutIsNeverGranted) {
  startCluster();
  createPool("p", 1);
  auto held = client_->checkout("p");
  ASSERT_TRUE(held.ok()) << held.error().message;
  auto waiter = cluster_->client();
  std::function<bool()> give_up = [&] {
    auto info = client_->poolInfo("p");
    return info && info->waiting_checkouts == 1;
  };
  auto abandoned = waiter->checkout("p", Millis{0}, kEventDeadline, give_up);
  ASSERT_FALSE(abandoned.ok());
  EXPECT_EQ(abandoned.error().code, ErrorCode::kCancelled) << abandoned.error().message;
  auto info = client_->poolInfo("p");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->waiting_checkouts, 0u);

  ASSERT_TRUE(client_->checkin("p", held->member, held->lease_id).ok());
  auto later = cluster_->client()->checkout("p", Millis{0}, Millis{2000});
  ASSERT_TRUE(later.ok()) << later.error().message << cluster_->logs();
  EXPECT_EQ(later->member, held->member);
}

// `ccmesh pool checkout` waiting for a member withdraws its checkout on Ctrl-C.
TEST_F(PoolTest, CtrlCWithdrawsAWaitingCliCheckout) {
  startCluster();
  createPool("p", 1);
  auto held = client_->checkout("p");
  ASSERT_TRUE(held.ok()) << held.error().message;
  Process cli(binaryPath("ccmesh"), {"--broker", cluster_->frontend(), "pool", "checkout", "p"},
              cluster_->dir() + "/ccmesh-checkout.log");
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->poolInfo("p");
    return info && info->waiting_checkouts == 1;
  })) << cli.log();
  cli.signal(SIGINT);
  const int status = cli.waitExit(kEventDeadline);
  ASSERT_NE(status, -1) << "still waiting after Ctrl-C: " << cli.log();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(cli.log().find("cancelled"), std::string::npos) << cli.log();
  auto info = client_->poolInfo("p");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->waiting_checkouts, 0u);
  ASSERT_TRUE(client_->checkin("p", held->member, held->lease_id).ok());
  EXPECT_EQ(client_->poolInfo("p")->checked_out, 0u) << "nothing went to the withdrawn checkout";
}

TEST_F(PoolTest, ALapsedLeaseReturnsTheMemberToThePool) {
  startCluster();
  createPool("p", 2);
  auto checkout = client_->checkout("p", Millis(200));
  ASSERT_TRUE(checkout.ok()) << checkout.error().message;
  auto held = member("p", checkout->member);
  ASSERT_TRUE(held);
  EXPECT_TRUE(held->checked_out);

  ASSERT_TRUE(waitFor([&] {
    auto info = client_->poolInfo("p");
    return info && info->reclaims == 1 && info->checked_out == 0;
  })) << cluster_->logs();
  auto late = client_->checkin("p", checkout->member, checkout->lease_id);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kNotFound);
  auto again = client_->checkout("p", Millis(60000), Millis(1000));
  EXPECT_TRUE(again.ok()) << again.error().message;
}

// kill -9 of one of the two workers: the pool keeps answering while its members move.
TEST_F(PoolTest, KeepsAnsweringWhileOneOfItsWorkersIsKilled) {
  startCluster({"--heartbeat-ms", "200"});
  auto info = createPool("p", 4);
  std::set<std::string> workers;
  for (const auto& m : info.members) workers.insert(m.worker);
  ASSERT_EQ(workers.size(), 2u);

  cluster_->worker("w2").signal(SIGKILL);
  client::QueryOptions options;
  options.timeout = Millis(15000);
  for (int i = 0; i < 8; ++i) {
    auto reply = client_->poolQuery("p", "still there " + std::to_string(i), options);
    ASSERT_TRUE(reply.ok()) << "query " << i << ": " << reply.error().code_name << " "
                            << reply.error().message << cluster_->logs();
    EXPECT_EQ(reply->worker, "w1");
  }
  EXPECT_TRUE(waitFor([&] {
    auto now = client_->poolInfo("p");
    if (!now || now->members.size() != 4) return false;
    for (const auto& m : now->members) {
      if (m.worker != "w1" || m.state != "idle") return false;
    }
    return true;
  })) << cluster_->logs();
}

TEST_F(PoolTest, SurvivesABrokerRestartThroughWhatWorkersReport) {
  startCluster();
  createPool("p", 3, "least_busy");
  ASSERT_TRUE(client_->poolQuery("p", "before").ok());
  cluster_->restartBroker();
  auto client = cluster_->client();
  ASSERT_TRUE(waitFor([&] {
    auto info = client->poolInfo("p");
    return info && info->members.size() == 3;
  })) << cluster_->logs();
  auto info = client->poolInfo("p");
  EXPECT_EQ(info->strategy, "least_busy");
  EXPECT_TRUE(info->owned);
  auto after = client->poolQuery("p", "after");
  ASSERT_TRUE(after.ok()) << after.error().message << cluster_->logs();
  EXPECT_EQ(after->pool, "p");
}

TEST_F(PoolTest, GroupsExistingSessionsAndDeleteLeavesThemRunning) {
  startCluster();
  ASSERT_TRUE(client_->start("a").ok());
  ASSERT_TRUE(client_->start("b").ok());
  client::PoolCreateOptions options;
  options.members = {"a", "b"};
  auto created = client_->poolCreate("team", options);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_FALSE(created->owned);
  ASSERT_TRUE(waitForIdle("team"));
  auto first = client_->poolQuery("team", "hi");
  auto second = client_->poolQuery("team", "hi");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->session, "a");
  EXPECT_EQ(second->session, "b");
  ASSERT_TRUE(client_->poolDelete("team").ok());
  EXPECT_TRUE(client_->info("a").ok()) << "grouped sessions stay";
  auto gone = client_->poolInfo("team");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);

  createPool("own", 2);
  auto resized = client_->poolResize("own", 3);
  ASSERT_TRUE(resized.ok()) << resized.error().message;
  EXPECT_EQ(resized->size, 3u);
  ASSERT_TRUE(waitForIdle("own"));
  ASSERT_TRUE(client_->poolResize("own", 1).ok());
  ASSERT_TRUE(client_->poolDelete("own").ok());
  EXPECT_TRUE(waitFor([&] {
    auto list = client_->list();
    return list && list->size() == 2;  // a and b
  })) << "the members the pool created are terminated";
}

TEST_F(PoolTest, TheToolCreatesQueriesChecksOutAndPrintsJson) {
  startCluster();
  auto ccmesh = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--broker", cluster_->frontend()});
    return runCommand(binaryPath("ccmesh"), args);
  };
  auto create = ccmesh({"pool", "create", "t", "--size", "2", "--system-prompt", "be brief"});
  ASSERT_EQ(create.exit_code, 0) << create.err;
  ASSERT_TRUE(waitForIdle("t"));
  auto query = ccmesh({"pool", "query", "t", "/system"});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_EQ(query.out.substr(0, query.out.find('\n')), "be brief");
  EXPECT_NE(query.out.find("answered by t/0 of pool t"), std::string::npos) << query.out;
  auto json = nlohmann::json::parse(ccmesh({"pool", "query", "t", "hi", "--json"}).out);
  EXPECT_EQ(json["session"], "t/1");
  EXPECT_EQ(json["pool"], "t");

  auto checkout = nlohmann::json::parse(ccmesh({"pool", "checkout", "t", "--json"}).out);
  ASSERT_TRUE(checkout["ok"].get<bool>()) << checkout.dump();
  const std::string held = checkout["member"];
  auto info = nlohmann::json::parse(ccmesh({"pool", "info", "t", "--json"}).out);
  ASSERT_EQ(info["pool"]["members"].size(), 2u);
  EXPECT_EQ(info["pool"]["checked_out"], 1);
  auto stranger = ccmesh({"pool", "checkin", "t", held});
  EXPECT_EQ(stranger.exit_code, 2) << "another process needs the lease id: " << stranger.err;
  auto checkin = ccmesh({"pool", "checkin", "t", held, "--lease-id",
                         std::to_string(checkout["lease_id"].get<uint64_t>())});
  EXPECT_EQ(checkin.exit_code, 0) << checkin.err;
  auto list = nlohmann::json::parse(ccmesh({"pool", "list", "--json"}).out);
  ASSERT_EQ(list["pools"].size(), 1u);
  auto missing = ccmesh({"pool", "info", "nope"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_EQ(ccmesh({"pool", "delete", "t"}).exit_code, 0);
}

}  // namespace
}  // namespace ccmesh::test
