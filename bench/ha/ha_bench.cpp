// ccmesh-bench-ha: high availability (docs/OPERATIONS.md "High availability") measured with
// a real etcd, two brokers of one cluster and two workers running the mock CLI.
//  * Leader kill -9 → how long until each of N sessions answers again, from the new leader
//    (p50, p99, max), at etcd leases of 1 s (the shortest etcd grants: 500 ms rounds up to
//    it) and 2 s (the default). Limit: the TTL (the old leader's key lapses no sooner).
//  * What being an HA leader costs a query: the round trip (p50) and the broker's CPU per
//    query of the leader with a standby, beside a single broker without --ha-etcd.
// Prints one JSON object.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_arguments.hpp"
#include "bench_cluster.hpp"
#include "cpu_ledger.hpp"
#include "figure_report.hpp"
#include "harness/ha_cluster.hpp"
#include "harness/wait_for.hpp"
#include "latency_samples.hpp"

using namespace ccmesh;
using namespace ccmesh::bench;
using SteadyTime = std::chrono::steady_clock;

namespace {

constexpr const char* kUsage =
    "Usage: ccmesh-bench-ha [--smoke] [--sessions N] [--queries N]\n"
    "Time from kill -9 of the leader broker to each of N sessions answering again from the\n"
    "new leader, at etcd leases of 1 s and 2 s; and the round trip and broker CPU per query\n"
    "of an HA leader with a standby beside a single broker. Prints JSON.";

constexpr int kHeartbeatMs = 200;

// The worker lease that outlasts a leader change at `ttl_ms` (the timing rule:
// N x H >= TTL + 0.5 s + 3 x H + margin), in heartbeats.
int livenessFor(int ttl_ms) { return (ttl_ms + 500 + 3 * kHeartbeatMs + 1000) / kHeartbeatMs; }

test::HaTiming timingFor(int ttl_ms) {
  return test::HaTiming{ttl_ms, kHeartbeatMs, livenessFor(ttl_ms), "warn"};
}

std::vector<std::string> sessionNames(std::size_t count) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < count; ++i) names.push_back("h" + std::to_string(i));
  return names;
}

// Two brokers (b1 leads), two workers, `sessions` idle sessions that answered once.
struct HaSetup {
  test::HaCluster cluster;
  std::string leader;

  HaSetup(int ttl_ms, std::size_t sessions) : cluster({}, timingFor(ttl_ms)) {
    cluster.startBroker("b1");
    leader = cluster.waitForLeader();
    cluster.startBroker("b2");
    const std::string capacity = std::to_string(sessions + 1);
    cluster.startWorker("w1", {"--capacity", capacity});
    cluster.startWorker("w2", {"--capacity", capacity});
    cluster.waitForLeader(2);
    auto client = cluster.client(Millis(30000));
    for (const auto& name : sessionNames(sessions)) {
      auto started = client->start(name, {});
      if (!started) throw std::runtime_error("start " + name + ": " + started.error().message);
      auto answer = client->query(name, "hello");
      if (!answer) throw std::runtime_error("query " + name + ": " + answer.error().message);
    }
    // The standby is in etcd, ready to campaign.
    if (!test::waitFor([&] {
          auto status = client->status();
          return status && status->ha.members.size() == 2;
        })) {
      throw std::runtime_error("the standby did not join:\n" + cluster.logs());
    }
  }
};

// One leader kill: the lease TTL, the sessions, and how soon clients check on a silent
// broker (ClientOptions::broker_check).
struct Scenario {
  int ttl_ms = 2000;
  std::size_t sessions = 30;
  int broker_check_ms = 1000;
};

std::string describe(const Scenario& scenario) {
  return "leader kill -9, etcd lease " + std::to_string(scenario.ttl_ms) +
         " ms, clients checking after " + std::to_string(scenario.broker_check_ms) +
         " ms of silence";
}

// What one leader kill measured.
struct Outcome {
  LatencySamples answered;  // kill -> first successful answer, per session
  std::size_t retries = 0;  // queries that ended with an error and were sent again
  std::map<std::string, std::size_t> errors;  // their codes
};

// One client per session, as web servers would hold them, each asking its session again
// as soon as an error ends a query, until it answers.
Outcome killLeader(const Scenario& scenario) {
  HaSetup setup(scenario.ttl_ms, scenario.sessions);
  const auto names = sessionNames(scenario.sessions);
  const std::size_t sessions = scenario.sessions;
  std::vector<std::unique_ptr<client::Client>> clients;
  for (std::size_t i = 0; i < sessions; ++i) {
    client::ClientOptions options;
    options.broker = setup.cluster.frontends();
    options.timeout = Millis(20000);
    options.broker_check = Millis(scenario.broker_check_ms);
    clients.push_back(std::make_unique<client::Client>(options));
  }
  std::mutex mutex;
  Outcome outcome;
  std::string failure;
  const auto killed_at = SteadyTime::now();
  setup.cluster.broker(setup.leader).signal(SIGKILL);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < sessions; ++i) {
    threads.emplace_back([&, i] {
      client::QueryOptions options;
      options.timeout = Millis(20000);
      const auto give_up = killed_at + Millis(60000);
      while (SteadyTime::now() < give_up) {
        auto answer = clients[i]->query(names[i], "are you there", options);
        std::lock_guard lock(mutex);
        if (answer) {
          outcome.answered.add(SteadyTime::now() - killed_at);
          return;
        }
        ++outcome.retries;
        ++outcome.errors[answer.error().code_name];
      }
      std::lock_guard lock(mutex);
      failure = names[i] + " did not answer within 60 s";
    });
  }
  for (auto& thread : threads) thread.join();
  if (!failure.empty()) throw std::runtime_error(failure + ":\n" + setup.cluster.logs());
  return outcome;
}

// Round trips of queries, one at a time, to one session, and the CPU its broker used.
struct RoundTrips {
  LatencySamples latency;
  CpuLedger cpu;
  std::size_t count = 0;

  double brokerCpuMicros() const {
    return count == 0 ? 0 : cpu.used("broker") * 1e6 / static_cast<double>(count);
  }
  // `count` more, to session h0 through `client`.
  void run(client::Client& client, std::size_t more) {
    cpu.start();
    for (std::size_t i = 0; i < more; ++i) {
      const auto sent = SteadyTime::now();
      auto answer = client.query("h0", "ping");
      if (!answer) throw std::runtime_error("query: " + answer.error().message);
      latency.add(SteadyTime::now() - sent);
    }
    cpu.stop();
    count += more;
  }
};

// A single broker and an HA leader with a standby, both running all along, take turns in
// blocks of queries, so that whatever else the machine does weighs on both alike.
std::pair<RoundTrips, RoundTrips> compareRoundTrips(std::size_t count) {
  BenchCluster single({"--heartbeat-ms", std::to_string(kHeartbeatMs)});
  single.startWorker("w1");
  single.startSessions({"h0"});
  auto single_client = single.client();
  HaSetup ha(2000, 1);
  auto ha_client = ha.cluster.client(Millis(30000));
  RoundTrips alone;
  RoundTrips leader;
  alone.cpu.add("broker", {single.broker().pid()});
  leader.cpu.add("broker", {ha.cluster.broker(ha.leader).pid()});
  for (int i = 0; i < 20; ++i) {
    (void)single_client->query("h0", "warm up");
    (void)ha_client->query("h0", "warm up");
  }
  constexpr std::size_t kBlocks = 10;
  for (std::size_t block = 0; block < kBlocks; ++block) {
    const std::size_t size = count / kBlocks + (block < count % kBlocks ? 1 : 0);
    alone.run(*single_client, size);
    leader.run(*ha_client, size);
  }
  return {std::move(alone), std::move(leader)};
}

void reportFailover(FigureReport& figures, const Scenario& scenario, const Outcome& outcome) {
  const int ttl_ms = scenario.ttl_ms;
  std::string note = std::to_string(outcome.answered.count()) +
                     " sessions over 2 workers, one client each, " + std::to_string(kHeartbeatMs) +
                     " ms heartbeats, liveness " + std::to_string(livenessFor(ttl_ms));
  if (outcome.retries > 0) {
    note +=
        ", " + std::to_string(outcome.retries) + " queries answered by an error and sent again (";
    bool first = true;
    for (const auto& [code, count] : outcome.errors) {
      note += (first ? "" : ", ") + std::to_string(count) + " " + code;
      first = false;
    }
    note += ")";
  }
  for (const auto& [label, percentile] :
       std::vector<std::pair<std::string, double>>{{"p50", 50}, {"p99", 99}, {"max", 100}}) {
    Figure figure;
    figure.name = describe(scenario) + ": each session answers again, " + label;
    figure.unit = "ms";
    figure.ccmesh = outcome.answered.percentileMicros(percentile) / 1000.0;
    figure.limit = ttl_ms;
    figure.limit_name = "the lease TTL: the dead leader's key lapses no sooner";
    figure.note = note;
    if (label == "p99") {
      figure.goal = Goal::kAddedAtMost;
      figure.threshold = 500;
      figure.goal_text = "<= TTL + 500 ms";
    }
    figures.add(std::move(figure));
  }
}

void reportCost(FigureReport& figures, const RoundTrips& ha, const RoundTrips& single) {
  const std::string note = std::to_string(ha.count) +
                           " queries each, one at a time to one session, in 10 alternating "
                           "blocks; the leader replicates declarations only (nothing per query)";
  Figure trip;
  trip.name = "query round trip p50, HA leader with a standby";
  trip.unit = "µs";
  trip.ccmesh = ha.latency.percentileMicros(50);
  trip.limit = single.latency.percentileMicros(50);
  trip.limit_name = "a single broker without --ha-etcd";
  trip.goal = Goal::kRatioAtMost;
  trip.threshold = 1.10;
  trip.goal_text = "<= 1.10x (replication adds under 10 %)";
  trip.note = note;
  figures.add(std::move(trip));
  Figure cpu;
  cpu.name = "broker CPU per query, HA leader with a standby";
  cpu.unit = "µs";
  cpu.ccmesh = ha.brokerCpuMicros();
  cpu.limit = single.brokerCpuMicros();
  cpu.limit_name = "a single broker without --ha-etcd";
  cpu.note = note + "; the leader's etcd renewals run on their own thread";
  figures.add(std::move(cpu));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto args = BenchArguments::parse(argc, argv, kUsage, {"--sessions", "--queries"});
    if (args.help) return 0;
    const std::size_t sessions = args.number("--sessions", args.smoke ? 3 : 30);
    const std::size_t queries = args.number("--queries", args.smoke ? 50 : 2000);
    // The default TTL and the shortest etcd grants (500 ms rounds up to it), with clients as
    // they come (a check after 1 s of silence) and tuned for high availability (250 ms).
    std::vector<Scenario> scenarios{
        {2000, sessions, 1000}, {1000, sessions, 1000}, {1000, sessions, 250}};
    if (args.smoke) scenarios = {{1000, sessions, 250}};
    FigureReport figures("ccmesh-bench-ha", args.smoke);
    for (const auto& scenario : scenarios) {
      std::cerr << describe(scenario) << ", " << sessions << " sessions ..." << std::endl;
      reportFailover(figures, scenario, killLeader(scenario));
    }
    std::cerr << "round trips: single broker and HA leader with a standby, in turns ..."
              << std::endl;
    const auto [single, ha] = compareRoundTrips(queries);
    reportCost(figures, ha, single);
    figures.print();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-bench-ha: " << e.what() << "\n";
    return 1;
  }
}
