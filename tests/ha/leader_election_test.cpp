// Brokers elect a leader through a real etcd; clients and workers follow it; a leader that
// dies, or loses etcd, hands over without a CLI restarting or a request going unanswered.
#include "ha/leader_election.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <regex>
#include <set>
#include <thread>

#include "ha/etcd_gateway.hpp"
#include "harness/ha_cluster.hpp"
#include "harness/wait_for.hpp"

namespace ccmesh::test {
namespace {

// The turn number of a mock CLI's answer ("turn N: PROMPT"); 0 if it is not one.
int turnOf(const std::string& answer) {
  std::smatch match;
  static const std::regex kTurn("^turn ([0-9]+): ");
  return std::regex_search(answer, match, kTurn) ? std::stoi(match[1]) : 0;
}

// The error a broker answers a `status` with on its own, not followed anywhere.
msg::ErrorReply rawAnswer(const std::string& frontend) {
  msg::ErrorReply error;
  auto answer = askStatusAlone(frontend, kEventDeadline);
  EXPECT_TRUE(answer) << "no answer from " << frontend;
  if (!answer || answer->type != MessageType::kError) return error;
  auto decoded = decodeBody<msg::ErrorReply>(*answer);
  if (decoded) error = decoded.value();
  return error;
}

// The keys etcd holds under the cluster's declarations, without that prefix.
std::set<std::string> declaredKeys(const std::string& etcd_url) {
  broker::EtcdGateway etcd({etcd_url}, Millis(1000));
  const std::string prefix = broker::LeaderElection::declaredPrefix("ccmesh");
  std::set<std::string> declared;
  for (const auto& kv : etcd.range(prefix, true).value_or(std::vector<broker::EtcdKeyValue>{})) {
    declared.insert(kv.key.substr(prefix.size()));
  }
  return declared;
}

class LeaderElectionTest : public ::testing::Test {
 protected:
  HaCluster cluster_;
};

TEST_F(LeaderElectionTest, OneBrokerLeadsAndStandbysSendClientsAndWorkersToIt) {
  cluster_.startBroker("b1");
  cluster_.startBroker("b2");
  const std::string leader = cluster_.waitForLeader();
  const std::string standby = leader == "b1" ? "b2" : "b1";

  // The standby itself names the leader, once it has read who leads...
  msg::ErrorReply refusal;
  ASSERT_TRUE(waitFor([&] {
    refusal = rawAnswer(cluster_.endpoints(standby).frontend);
    return !refusal.leader.empty();
  })) << refusal.code
      << ": " << refusal.message;
  EXPECT_EQ(refusal.code, "not_leader") << refusal.message;
  EXPECT_EQ(refusal.leader, cluster_.endpoints(leader).frontend) << refusal.message;
  EXPECT_EQ(refusal.id, 7u);

  // ...and a client that only knows the standby ends up at the leader.
  auto status = cluster_.clientOf(standby)->status();
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->ha.name, leader);
  EXPECT_EQ(status->ha.role, "leader");
  EXPECT_GT(status->ha.term, 0u);
  ASSERT_TRUE(waitFor([&] {
    auto now = cluster_.client()->status();
    return now && now->ha.members.size() == 2;
  })) << cluster_.logs();
  status = cluster_.client()->status();
  ASSERT_TRUE(status);
  int leaders = 0;
  for (const auto& member : status->ha.members) leaders += member.leader ? 1 : 0;
  EXPECT_EQ(leaders, 1);

  // A worker that knows the standby first registers with the leader.
  cluster_.startWorker("w1");
  EXPECT_EQ(cluster_.waitForLeader(1), leader);
  auto client = cluster_.client();
  ASSERT_TRUE(client->start("s1", {})) << cluster_.logs();
  auto answer = client->query("s1", "hello");
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->text, "turn 1: hello");
}

TEST_F(LeaderElectionTest, LeaderKilledSessionsAnswerAgainFromTheNewLeaderWithTheSameClis) {
  cluster_.startBroker("b1");
  cluster_.startBroker("b2");
  for (const char* id : {"w1", "w2", "w3"}) cluster_.startWorker(id);
  const std::string first = cluster_.waitForLeader(3);
  const std::uint64_t first_term = cluster_.client()->status()->ha.term;

  constexpr int kSessions = 30;
  auto client = cluster_.client();
  std::map<std::string, msg::SessionInfo> before;
  for (int i = 0; i < kSessions; ++i) {
    const std::string name = "s" + std::to_string(i);
    ASSERT_TRUE(client->start(name, {})) << cluster_.logs();
  }
  for (int i = 0; i < kSessions; ++i) {
    const std::string name = "s" + std::to_string(i);
    auto answer = client->query(name, "one");
    ASSERT_TRUE(answer) << name << ": " << answer.error().message;
    EXPECT_EQ(answer->text, "turn 1: one");
    before[name] = client->info(name).value();
    ASSERT_GT(before[name].pid, 0);
  }

  cluster_.broker(first).signal(SIGKILL);
  cluster_.broker(first).waitExit(kEventDeadline);

  // 30 clients, one per session, ask until their session answers again. Every call ends
  // with a reply (an error while the leader changes), never with silence.
  std::atomic<int> silent{0};
  std::atomic<int> answered{0};
  std::vector<std::string> failures(kSessions);
  std::vector<std::thread> clients;
  for (int i = 0; i < kSessions; ++i) {
    clients.emplace_back([&, i] {
      const std::string name = "s" + std::to_string(i);
      auto own = cluster_.client(Millis(10000));
      const auto deadline = std::chrono::steady_clock::now() + kEventDeadline;
      while (std::chrono::steady_clock::now() < deadline) {
        client::QueryOptions options;
        options.timeout = Millis(8000);
        auto answer = own->query(name, "two", options);
        if (answer) {
          if (turnOf(answer->text) < 2) failures[i] = "answered " + answer->text;
          ++answered;
          return;
        }
        if (answer.error().message.rfind("no reply from broker", 0) == 0) ++silent;
        failures[i] = answer.error().code_name + ": " + answer.error().message;
      }
    });
  }
  for (auto& thread : clients) thread.join();
  EXPECT_EQ(answered.load(), kSessions) << cluster_.logs();
  EXPECT_EQ(silent.load(), 0);
  for (int i = 0; i < kSessions; ++i) {
    EXPECT_EQ(failures[i].rfind("answered", 0), std::string::npos)
        << "s" << i << ": " << failures[i];
  }

  const auto status = cluster_.client()->status();
  ASSERT_TRUE(status);
  EXPECT_NE(status->ha.name, first);
  EXPECT_GT(status->ha.term, first_term);
  // No CLI was restarted: every session runs where it ran, in the same process.
  for (const auto& [name, info] : before) {
    auto now = client->info(name);
    ASSERT_TRUE(now) << name << ": " << now.error().message;
    EXPECT_EQ(now->pid, info.pid) << name;
    EXPECT_EQ(now->worker, info.worker) << name;
  }

  // The old leader comes back as a standby.
  cluster_.startBroker(first);
  ASSERT_TRUE(waitFor([&] {
    auto now = cluster_.client()->status();
    return now && now->ha.members.size() == 2 && now->ha.name != first;
  })) << cluster_.logs();

  // A worker dies: its sessions continue their conversations elsewhere, from the
  // transcripts the workers gave the new leader.
  cluster_.worker("w1").signal(SIGKILL);
  for (const auto& [name, info] : before) {
    if (info.worker != "w1") continue;
    auto answer = client->query(name, "three");
    ASSERT_TRUE(answer) << name << ": " << answer.error().message << cluster_.logs();
    EXPECT_GE(turnOf(answer->text), 3) << answer->text;
    EXPECT_NE(answer->worker, "w1");
  }
}

TEST_F(LeaderElectionTest, AsynchronousQueriesEachEndOnceAcrossALeaderChange) {
  cluster_.startBroker("b1");
  cluster_.startBroker("b2");
  cluster_.startWorker("w1");
  const std::string first = cluster_.waitForLeader(1);
  auto client = cluster_.client(Millis(10000));
  constexpr int kSessions = 5;
  for (int i = 0; i < kSessions; ++i) {
    ASSERT_TRUE(client->start("a" + std::to_string(i), {})) << cluster_.logs();
  }

  // Queries in flight when the leader dies end unavailable (their fate is unknown); every
  // one ends exactly once.
  std::map<uint64_t, std::string> asked;
  for (int i = 0; i < kSessions; ++i) {
    asked[client->sendQuery("a" + std::to_string(i), "/sleep 3000")] = "a" + std::to_string(i);
  }
  cluster_.broker(first).signal(SIGKILL);
  std::map<uint64_t, int> finals;
  ASSERT_TRUE(waitFor([&] {
    auto incoming = client->receive(Millis(100));
    if (incoming && incoming->type != MessageType::kEvent) ++finals[incoming->id];
    return finals.size() == asked.size();
  })) << finals.size()
      << " of " << asked.size() << " ended" << cluster_.logs();
  for (const auto& [id, count] : finals) {
    EXPECT_EQ(count, 1) << asked[id];
    EXPECT_EQ(asked.count(id), 1u);
  }

  // Sent while no leader serves yet, they reach the new one and answer.
  asked.clear();
  for (int i = 0; i < kSessions; ++i) {
    asked[client->sendQuery("a" + std::to_string(i), "again")] = "a" + std::to_string(i);
  }
  std::map<uint64_t, std::string> answers;
  ASSERT_TRUE(waitFor([&] {
    auto incoming = client->receive(Millis(100));
    if (incoming && incoming->type == MessageType::kResult) answers[incoming->id] = "ok";
    if (incoming && incoming->type == MessageType::kError) {
      answers[incoming->id] = incoming->error.code_name + ": " + incoming->error.message;
    }
    return answers.size() == asked.size();
  })) << answers.size()
      << " of " << asked.size() << " ended" << cluster_.logs();
  for (const auto& [id, answer] : answers) EXPECT_EQ(answer, "ok") << asked[id];
}

TEST_F(LeaderElectionTest, ABurstOfDeclarationsIsWrittenWholeAndInOrder) {
  cluster_.startBroker("b1");
  cluster_.startBroker("b2");
  cluster_.startWorker("w1");
  const std::string first = cluster_.waitForLeader(1);
  SessionOptions lazy;
  lazy.start = std::string(SessionOptions::kStartOnDemand);
  ASSERT_TRUE(cluster_.client(Millis(5000))->start("shared", lazy)) << cluster_.logs();

  // Clients at once: many starts queue up behind each etcd write and leave in one
  // transaction; budget changes of one name queue up twice in it, which etcd would refuse.
  constexpr int kClients = 6;
  constexpr int kEach = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto client = cluster_.client(Millis(10000));
      for (int i = 0; i < kEach; ++i) {
        if (c % 2 == 0) {
          if (!client->start("burst-" + std::to_string(c) + "-" + std::to_string(i), lazy)) {
            ++failures;
          }
          continue;
        }
        if (!client->budget("shared", 0, 1 + c * 100 + i)) ++failures;
      }
    });
  }
  for (auto& client : clients) client.join();
  ASSERT_EQ(failures.load(), 0) << cluster_.logs();

  const std::set<std::string> declared = declaredKeys(cluster_.etcd().url());
  std::set<std::string> expected{"session/shared"};
  for (int c = 0; c < kClients; c += 2) {
    for (int i = 0; i < kEach; ++i) {
      expected.insert("session/burst-" + std::to_string(c) + "-" + std::to_string(i));
    }
  }
  EXPECT_EQ(declared, expected);
  auto before = cluster_.client(Millis(5000))->budget("shared");
  ASSERT_TRUE(before) << before.error().message;

  // The new leader reads the budget the old one ended with, not an earlier one of the burst.
  cluster_.broker(first).signal(SIGKILL);
  cluster_.broker(first).waitExit(kEventDeadline);
  ASSERT_NE(cluster_.waitForLeader(1), first);
  auto client = cluster_.client(Millis(5000));
  client::Reply<msg::BudgetResult> budget = client->budget("shared");
  ASSERT_TRUE(waitFor([&] {
    budget = client->budget("shared");
    return budget.ok();
  })) << budget.error().message
      << cluster_.logs();
  EXPECT_EQ(budget->budget_usd, before->budget_usd);
}

TEST_F(LeaderElectionTest, SessionsAndPoolsDeclaredAtRuntimeOutliveTheLeader) {
  cluster_.startBroker("b1");
  cluster_.startBroker("b2");
  cluster_.startWorker("w1");
  const std::string first = cluster_.waitForLeader(1);
  auto client = cluster_.client(Millis(5000));

  // Only the broker knows these: no worker can host the first, the second has no process
  // yet, the pool's shape and the budget are the broker's own.
  SessionOptions gpu;
  gpu.require["gpu"] = "yes";
  ASSERT_TRUE(client->start("pending", gpu)) << cluster_.logs();
  SessionOptions lazy;
  lazy.start = std::string(SessionOptions::kStartOnDemand);
  lazy.budget_usd = 5;
  ASSERT_TRUE(client->start("lazy", lazy));
  client::PoolCreateOptions pool;
  pool.size = 2;
  ASSERT_TRUE(client->poolCreate("team", pool)) << cluster_.logs();
  ASSERT_TRUE(client->poolResize("team", 3));
  ASSERT_TRUE(client->start("gone", {}));
  ASSERT_TRUE(client->terminate("gone"));
  // The leader answers only once etcd holds what the request declared: right after the
  // replies, etcd has every declaration, and `gone` no more.
  const std::set<std::string> declared = declaredKeys(cluster_.etcd().url());
  EXPECT_EQ(declared, (std::set<std::string>{"session/pending", "session/lazy", "pool/team"}));
  ASSERT_EQ(client->info("pending")->state, "pending");
  int64_t member_pid = 0;
  ASSERT_TRUE(waitFor([&] {
    auto member = client->info("team/2");
    member_pid = member ? member->pid : 0;
    return member_pid > 0;
  }));

  cluster_.broker(first).signal(SIGKILL);
  cluster_.broker(first).waitExit(kEventDeadline);
  std::string last;
  ASSERT_TRUE(waitFor([&] {
    auto info = client->info("pending");
    last = info ? info->state : info.error().message;
    return info.ok();
  })) << last
      << cluster_.logs();
  ASSERT_NE(cluster_.waitForLeader(1), first);

  auto pending = client->info("pending");
  ASSERT_TRUE(pending) << pending.error().message;
  EXPECT_EQ(pending->state, "pending");
  EXPECT_EQ(pending->config.require, gpu.require);
  auto on_demand = client->info("lazy");
  ASSERT_TRUE(on_demand) << on_demand.error().message;
  EXPECT_EQ(on_demand->config.start, SessionOptions::kStartOnDemand);
  EXPECT_EQ(on_demand->config.budget_usd, 5);
  // A name nobody declares is unknown once the new leader's workers have all reported
  // (until then it answers unavailable: a worker could still hold it).
  client::Reply<msg::SessionInfo> gone = client->info("gone");
  ASSERT_TRUE(waitFor([&] {
    gone = client->info("gone");
    return gone.ok() || gone.error().code != ErrorCode::kUnavailable;
  }));
  ASSERT_FALSE(gone) << "a terminated session came back: " << gone->state << cluster_.logs();
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound) << gone.error().message;
  auto team = client->poolInfo("team");
  ASSERT_TRUE(team) << team.error().message << cluster_.logs();
  EXPECT_EQ(team->members.size(), 3u);
  EXPECT_TRUE(team->owned);
  auto member = client->info("team/2");
  ASSERT_TRUE(member) << member.error().message;
  EXPECT_EQ(member->pid, member_pid) << "the pool's member was started again";
  auto answer = client->poolQuery("team", "hello");
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->pool, "team");
  answer = client->query("lazy", "hello");
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->text, "turn 1: hello");

  // The pending session still waits for its worker, and runs once one comes.
  cluster_.startWorker("w2", {"--labels", "gpu=yes"});
  answer = client->query("pending", "hello");
  ASSERT_TRUE(answer) << answer.error().message << cluster_.logs();
  EXPECT_EQ(answer->worker, "w2");
}

// Workers keep their sessions through an etcd outage shorter than their lease (the timing
// rule); this one gives them 10 s, so that a slow etcd restart on a busy machine stays inside.
TEST(EtcdOutageTest, NoBrokerServesWithoutEtcdAndServiceResumesWhenItReturns) {
  HaCluster cluster_({}, HaTiming{1000, 200, 50});
  cluster_.startBroker("b1");
  cluster_.startBroker("b2");
  cluster_.startWorker("w1");
  cluster_.waitForLeader(1);
  auto client = cluster_.client(Millis(5000));
  ASSERT_TRUE(client->start("s1", {}));
  ASSERT_TRUE(client->query("s1", "one"));

  cluster_.etcd().kill();
  // The leader stops serving at its lease's end, and nobody takes over.
  ASSERT_TRUE(waitFor([&] { return !cluster_.leader(); })) << cluster_.logs();
  auto refused = client->query("s1", "while etcd is away");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable) << refused.error().message;

  cluster_.etcd().start();
  cluster_.waitForLeader(1);
  std::string last;
  ASSERT_TRUE(waitFor([&] {
    auto answer = client->query("s1", "two");
    last = answer ? answer->text : answer.error().message;
    return answer.ok();
  })) << last
      << cluster_.logs();
  EXPECT_GE(turnOf(last), 2) << last;
}

}  // namespace
}  // namespace ccmesh::test
