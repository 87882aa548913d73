// Failover with real processes on loopback: a worker killed with SIGKILL, a worker frozen
// with SIGSTOP, the broker killed and restarted, a worker restarted under the same id.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "copy_sampler.hpp"
#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

using namespace std::chrono_literals;

// What one client saw of its queries.
struct ClientTally {
  std::map<uint64_t, int> finals;       // request id -> final replies received
  std::map<std::string, int> outcomes;  // "ok" or the error code -> count
  std::vector<std::string> unexpected;  // descriptions of anything odd
};

class FailoverTest : public ::testing::Test {
 protected:
  // A session whose CLI processes the CopySampler recognises.
  SessionOptions taggedOptions(const std::string& name) const {
    SessionOptions options;
    options.env[CopySampler::kSessionTagVariable] = cluster_->dir() + "/" + name;
    return options;
  }

  // Starts `count` sessions s00, s01, ... and waits until every one is idle.
  std::vector<std::string> startSessions(int count) {
    auto client = cluster_->client();
    std::vector<std::string> names;
    for (int i = 0; i < count; ++i) {
      names.push_back((i < 10 ? "s0" : "s") + std::to_string(i));
      auto ack = client->start(names.back(), taggedOptions(names.back()));
      EXPECT_TRUE(ack.ok()) << ack.error().message;
    }
    EXPECT_TRUE(waitFor([&] { return allIdle(*client, names.size()); })) << cluster_->logs();
    return names;
  }

  // Every session is placed and idle.
  static bool allIdle(client::Client& client, std::size_t expected) {
    auto list = client.list();
    if (!list || list->size() != expected) return false;
    for (const auto& info : *list) {
      if (info.state != "idle" || info.pid == 0) return false;
    }
    return true;
  }

  // name -> (worker, pid) for every session.
  std::map<std::string, std::pair<std::string, int64_t>> placements() const {
    std::map<std::string, std::pair<std::string, int64_t>> result;
    auto list = cluster_->client()->list();
    if (list) {
      for (const auto& info : *list) result[info.name] = {info.worker, info.pid};
    }
    return result;
  }

  // The worker hosting the most sessions.
  std::string busiestWorker() const {
    std::map<std::string, int> counts;
    for (const auto& [name, where] : placements()) ++counts[where.first];
    std::string best;
    for (const auto& [worker, count] : counts) {
      if (best.empty() || count > counts[best]) best = worker;
    }
    return best;
  }

  std::unique_ptr<Cluster> cluster_;
};

// One client's share of the load: one query to every session, one at a time, through the
// asynchronous API so that a second final reply for any request would be seen.
ClientTally runClient(const Cluster& cluster, int index, const std::vector<std::string>& names,
                      std::atomic<int>& finals_seen) {
  ClientTally tally;
  auto client = cluster.client(20s);
  for (std::size_t k = 0; k < names.size(); ++k) {
    const auto& name = names[(k + index) % names.size()];
    client::QueryOptions options;
    options.timeout = 15s;
    const uint64_t id = client->sendQuery(name, "/sleep 5", options);
    tally.finals[id] = 0;
    bool done = false;
    while (!done) {
      auto incoming = client->receive(20s);
      if (!incoming) {
        tally.unexpected.push_back("no final reply for a query to " + name);
        return tally;
      }
      if (incoming->type == MessageType::kEvent) continue;
      if (!tally.finals.count(incoming->id)) {
        tally.unexpected.push_back("a reply for an unknown request " +
                                   std::to_string(incoming->id));
        continue;
      }
      ++tally.finals[incoming->id];
      if (incoming->id != id) continue;  // a duplicate of an earlier one: counted above
      done = true;
      finals_seen.fetch_add(1);
      if (incoming->type == MessageType::kResult) {
        ++tally.outcomes["ok"];
      } else {
        ++tally.outcomes[incoming->error.code_name];
      }
    }
  }
  // Anything still arriving would be a second final reply.
  while (auto late = client->receive(200ms)) {
    if (tally.finals.count(late->id)) ++tally.finals[late->id];
  }
  return tally;
}

// True if a TCP socket listening or accepted on 127.0.0.1:`port` holds bytes its process
// has not read (the rx_queue of /proc/net/tcp): a frozen broker's kernel took a request.
bool unreadBytesOnPort(const std::string& endpoint) {
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    const auto colon = local.find(':');
    if (colon == std::string::npos || std::stoi(local.substr(colon + 1), nullptr, 16) != port) {
      continue;
    }
    const auto rx = queues.substr(queues.find(':') + 1);
    if (std::stoul(rx, nullptr, 16) > 0) return true;
  }
  return false;
}

TEST_F(FailoverTest, KillNineOfAWorkerLosesNoQueryAndNeverRunsANameTwice) {
  cluster_ = std::make_unique<Cluster>();
  for (const char* id : {"w1", "w2", "w3"}) cluster_->startWorker(id);
  const auto names = startSessions(30);
  CopySampler sampler(cluster_->dir());

  constexpr int kClients = 30;
  std::atomic<int> finals_seen{0};
  std::vector<ClientTally> tallies(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] { tallies[i] = runClient(*cluster_, i, names, finals_seen); });
  }
  // Kill while the load runs (a quarter of the queries answered). The clients end by
  // themselves (every wait of theirs is bounded), so they are joined whatever happens.
  const int total = kClients * static_cast<int>(names.size());
  const bool loaded = waitFor([&] { return finals_seen.load() >= total / 4; });
  const std::string victim = busiestWorker();
  cluster_->worker(victim).signal(SIGKILL);
  for (auto& thread : clients) thread.join();
  ASSERT_TRUE(loaded) << "the load never got going" << cluster_->logs();

  std::map<std::string, int> outcomes;
  for (const auto& tally : tallies) {
    for (const auto& text : tally.unexpected) ADD_FAILURE() << text;
    for (const auto& [id, count] : tally.finals) {
      EXPECT_EQ(count, 1) << "request " << id << " got " << count << " final replies";
    }
    for (const auto& [outcome, count] : tally.outcomes) outcomes[outcome] += count;
  }
  int answered = 0;
  for (const auto& [outcome, count] : outcomes) {
    answered += count;
    // A prompt that had reached the killed worker's CLI ends worker_lost; nothing else.
    EXPECT_TRUE(outcome == "ok" || outcome == "worker_lost") << outcome << " x" << count;
  }
  EXPECT_EQ(answered, total);

  // Every name answers again, from a live worker.
  auto client = cluster_->client();
  for (const auto& name : names) {
    auto reply = client->query(name, "after");
    ASSERT_TRUE(reply.ok()) << name << ": " << reply.error().message << cluster_->logs();
    EXPECT_NE(reply->worker, victim);
  }
  sampler.stop();
  EXPECT_GT(sampler.samples(), 0u);
  for (const auto& violation : sampler.violations()) ADD_FAILURE() << violation;
  auto status = client->status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->workers.size(), 2u);
  EXPECT_EQ(status->workers_lost, 1u);
}

TEST_F(FailoverTest, FrozenWorkerLosesItsNamesAndStopsItsCopiesWhenItWakes) {
  cluster_ = std::make_unique<Cluster>(std::vector<std::string>{"--heartbeat-ms", "100"});
  cluster_->startWorker("w1");
  cluster_->startWorker("w2");
  const auto names = startSessions(6);
  auto before = placements();
  std::vector<pid_t> frozen_clis;
  std::set<std::string> frozen_names;
  for (const auto& [name, where] : before) {
    if (where.first != "w1") continue;
    frozen_names.insert(name);
    frozen_clis.push_back(static_cast<pid_t>(where.second));
  }
  ASSERT_FALSE(frozen_names.empty());
  CopySampler sampler(cluster_->dir());

  cluster_->worker("w1").signal(SIGSTOP);
  auto client = cluster_->client();
  // Frozen, the worker cannot fence itself; its process-group keeper kills its CLIs when
  // the lease lapses, before the broker places the names elsewhere.
  EXPECT_TRUE(waitFor([&] {
    for (pid_t pid : frozen_clis) {
      if (runnable(pid)) return false;
    }
    return true;
  })) << "the frozen worker's CLIs still run"
      << cluster_->logs();
  ASSERT_TRUE(waitFor([&] {
    auto now = placements();
    for (const auto& name : frozen_names) {
      if (now[name].first != "w2" || now[name].second == 0) return false;
    }
    return true;
  })) << cluster_->logs();
  for (const auto& name : frozen_names) {
    auto reply = client->query(name, "moved");
    ASSERT_TRUE(reply.ok()) << name << ": " << reply.error().message;
    EXPECT_EQ(reply->worker, "w2");
  }

  // Woken, the old worker finds its lease lapsed and stops its copies itself.
  cluster_->worker("w1").signal(SIGCONT);
  EXPECT_TRUE(waitFor([&] {
    for (pid_t pid : frozen_clis) {
      if (processExists(pid)) return false;
    }
    return true;
  })) << cluster_->logs();
  EXPECT_TRUE(cluster_->waitForWorkers(2)) << "it rejoins, empty";
  for (const auto& [name, where] : placements()) {
    if (frozen_names.count(name)) {
      EXPECT_EQ(where.first, "w2") << name;
    }
  }
  EXPECT_NE(cluster_->worker("w1").log().find("self-fencing"), std::string::npos);
  for (const auto& name : names) EXPECT_TRUE(client->query(name, "again").ok()) << name;
  sampler.stop();
  EXPECT_GT(sampler.samples(), 0u);
  for (const auto& violation : sampler.violations()) ADD_FAILURE() << violation;
}

TEST_F(FailoverTest, BrokerRestartLosesNoSessionAndRestartsNoCli) {
  TempDir config;
  const std::string sessions_file = config.path() + "/sessions.conf";
  {
    std::ofstream file(sessions_file);
    file << "[session.static1]\nmodel = sonnet\n[session.static2]\nmodel = sonnet\n";
  }
  cluster_ = std::make_unique<Cluster>(std::vector<std::string>{"--sessions", sessions_file});
  cluster_->startWorker("w1");
  cluster_->startWorker("w2");
  auto client = cluster_->client();
  SessionOptions dynamic;
  dynamic.model = "opus";
  ASSERT_TRUE(client->start("dynamic1", dynamic).ok());
  ASSERT_TRUE(client->start("dynamic2", dynamic).ok());
  ASSERT_TRUE(waitFor([&] { return allIdle(*client, 4); })) << cluster_->logs();
  for (const char* name : {"static1", "static2", "dynamic1", "dynamic2"}) {
    ASSERT_TRUE(client->query(name, "remember me").ok()) << name;
  }
  const auto before = placements();
  // A prompt in flight when the broker dies gets a definite answer, long before its
  // deadline: the restarted broker does not know it, and says so when the client asks.
  auto asking = cluster_->client(20s);
  std::optional<client::Reply<msg::QueryResult>> in_flight;
  std::thread asker([&] {
    client::QueryOptions options;
    options.timeout = 15s;
    in_flight = asking->query("dynamic2", "/sleep 1500", options);
  });
  ASSERT_TRUE(waitFor([&] {
    auto info = client->info("dynamic2");
    return info && info->state == "busy";
  }));

  cluster_->restartBroker();
  asker.join();
  ASSERT_TRUE(in_flight.has_value());
  ASSERT_FALSE(in_flight->ok());
  EXPECT_EQ(in_flight->error().code, ErrorCode::kUnavailable) << in_flight->error().message;
  ASSERT_TRUE(waitFor([&] { return placements() == before; }))
      << "every session reported back by its worker, same CLI pid" << cluster_->logs();
  auto list = client->list();
  ASSERT_TRUE(list.ok());
  for (const auto& info : *list) {
    EXPECT_EQ(info.config.model, info.name.rfind("dynamic", 0) == 0 ? "opus" : "sonnet");
    auto history = client->query(info.name, "/history");
    ASSERT_TRUE(history.ok()) << info.name << ": " << history.error().message;
    EXPECT_EQ(history->text.rfind("remember me", 0), 0u) << "the same conversation";
  }
  EXPECT_EQ(placements(), before);
}

TEST_F(FailoverTest, ReadOnlyCallLostWithTheBrokerIsSentAgainToItsSuccessor) {
  cluster_ = std::make_unique<Cluster>();
  cluster_->startWorker("w1");
  startSessions(1);
  // The broker freezes; a read-only call goes out and reaches its kernel, unread; then the
  // broker dies with it. Its successor never saw the call: the client sends it again
  // (after one broker_check of silence) instead of waiting for its 30 s deadline.
  auto client = cluster_->client(30s);
  ASSERT_TRUE(client->status().ok()) << "connected, handshake done";
  cluster_->broker().signal(SIGSTOP);
  std::optional<client::Reply<std::vector<msg::SessionInfo>>> listed;
  std::thread caller([&] { listed = client->list(); });
  const bool reached = waitFor([&] { return unreadBytesOnPort(cluster_->frontend()); });
  cluster_->restartBroker();  // SIGKILL ends a stopped process too
  caller.join();
  ASSERT_TRUE(reached) << "the call never reached the frozen broker";
  ASSERT_TRUE(listed.has_value());
  EXPECT_TRUE(listed->ok()) << listed->error().code_name << ": " << listed->error().message;
}

TEST_F(FailoverTest, RestartedWorkerReusingItsIdIsAcceptedAtOnce) {
  cluster_ = std::make_unique<Cluster>(std::vector<std::string>{"--heartbeat-ms", "200"});
  auto& old_process = cluster_->startWorker("w1");
  const pid_t old_pid = old_process.pid();
  cluster_->startWorker("w2");
  const auto names = startSessions(4);
  std::vector<pid_t> old_clis;
  for (const auto& [name, where] : placements()) {
    if (where.first == "w1") old_clis.push_back(static_cast<pid_t>(where.second));
  }
  ASSERT_FALSE(old_clis.empty());
  CopySampler sampler(cluster_->dir());
  // The old process hangs with its connection open; a new one takes over its id. The broker
  // hands the connection over at once, but places the old process's names only once its
  // lease has surely lapsed: frozen is not dead, and its CLIs run until then.
  ::kill(old_pid, SIGSTOP);
  auto replacement = std::make_unique<Process>(
      binaryPath("ccmesh-worker"),
      std::vector<std::string>{"--broker", cluster_->backend(), "--id", "w1", "--log-level",
                               "debug"},
      cluster_->dir() + "/worker-w1-again.log",
      std::map<std::string, std::string>{{"HOME", cluster_->homeOf("w1")}});
  auto client = cluster_->client();
  EXPECT_TRUE(waitFor([&] { return replacement->log().find("welcomed") != std::string::npos; }))
      << cluster_->logs();
  EXPECT_TRUE(waitFor([&] { return allIdle(*client, names.size()); })) << cluster_->logs();
  for (pid_t pid : old_clis) EXPECT_FALSE(runnable(pid)) << "old CLI " << pid << " still runs";
  auto status = client->status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->workers.size(), 2u);
  EXPECT_EQ(status->workers_lost, 0u) << "replaced, never declared dead";
  for (const auto& name : names) EXPECT_TRUE(client->query(name, "hello").ok()) << name;
  sampler.stop();
  EXPECT_GT(sampler.samples(), 0u);
  for (const auto& violation : sampler.violations()) ADD_FAILURE() << violation;
  ::kill(old_pid, SIGKILL);
  ::kill(old_pid, SIGCONT);
}

}  // namespace
}  // namespace ccmesh::test
