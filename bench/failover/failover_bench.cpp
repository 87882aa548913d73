// ccmesh-bench-failover: a worker hosting N sessions dies (kill -9) or freezes (SIGSTOP);
// from that moment, how long until each of its sessions answers a query again, from the
// other worker (p50, p99, max). Runs N = 10 and 100 at 1000 ms (the default) and 100 ms
// heartbeats. A frozen worker is only noticed by its silence: its figures sit beside the
// worker expiry (liveness x heartbeat + fence margin), the least they could be. Prints one
// JSON object.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_arguments.hpp"
#include "bench_cluster.hpp"
#include "figure_report.hpp"
#include "latency_samples.hpp"

using namespace ccmesh;
using namespace ccmesh::bench;
using SteadyTime = std::chrono::steady_clock;

namespace {

constexpr const char* kUsage =
    "Usage: ccmesh-bench-failover [--smoke] [--sessions N]\n"
    "Time from kill -9 (or SIGSTOP) of a worker hosting N sessions to the first answer of\n"
    "each moved session, at 1000 ms and 100 ms heartbeats; prints JSON. --sessions runs\n"
    "only that N (default: 10 and 100).";

constexpr int kLiveness = 3;  // the broker's default

// One way to lose a worker, at one size and heartbeat.
struct Scenario {
  bool frozen = false;  // SIGSTOP instead of SIGKILL
  std::size_t sessions = 10;
  int heartbeat_ms = 1000;
};

// What one run measured.
struct Outcome {
  LatencySamples answered;      // kill -> first successful answer, per session
  std::size_t retries = 0;      // queries that ended with an error and were sent again
  std::size_t worker_lost = 0;  // of those, worker_lost (none expected: all were idle)
};

std::string describe(const Scenario& scenario) {
  return std::string(scenario.frozen ? "failover, SIGSTOP" : "failover, kill -9") +
         " of a worker with " + std::to_string(scenario.sessions) + " sessions, " +
         std::to_string(scenario.heartbeat_ms) + " ms heartbeats";
}

Outcome run(const Scenario& scenario) {
  BenchCluster cluster({"--heartbeat-ms", std::to_string(scenario.heartbeat_ms)});
  const std::string capacity = std::to_string(scenario.sessions);
  auto& victim = cluster.startWorker("victim", {"--capacity", capacity});
  std::vector<std::string> names;
  for (std::size_t i = 0; i < scenario.sessions; ++i) names.push_back("f" + std::to_string(i));
  cluster.startSessions(names);  // all on the victim: it is the only worker yet
  cluster.startWorker("survivor", {"--capacity", capacity});
  auto client = cluster.client(Millis(60000));
  client::QueryOptions options;
  options.timeout = Millis(60000);

  Outcome outcome;
  std::map<uint64_t, std::string> asked;  // request id -> session
  const auto lost_at = SteadyTime::now();
  victim.signal(scenario.frozen ? SIGSTOP : SIGKILL);
  for (const auto& name : names) asked[client->sendQuery(name, "are you there", options)] = name;
  while (!asked.empty()) {
    auto incoming = client->receive(Millis(60000));
    if (!incoming) throw std::runtime_error(describe(scenario) + ": no answer within 60 s");
    if (incoming->type == MessageType::kEvent) continue;
    auto it = asked.find(incoming->id);
    if (it == asked.end()) continue;
    const std::string name = it->second;
    asked.erase(it);
    if (incoming->type == MessageType::kResult) {
      outcome.answered.add(SteadyTime::now() - lost_at);
      continue;
    }
    ++outcome.retries;
    if (incoming->error.code == ErrorCode::kWorkerLost) ++outcome.worker_lost;
    asked[client->sendQuery(name, "are you there", options)] = name;
  }
  if (scenario.frozen) victim.signal(SIGCONT);  // so that it stops quickly with the cluster
  return outcome;
}

void report(FigureReport& figures, const Scenario& scenario, const Outcome& outcome) {
  const std::string name = describe(scenario);
  const double expiry_ms = scenario.heartbeat_ms * (kLiveness + 1.0);  // margin: one heartbeat
  std::string note = std::to_string(outcome.answered.count()) + " sessions";
  if (outcome.retries > 0) {
    note += ", " + std::to_string(outcome.retries) + " queries retried (" +
            std::to_string(outcome.worker_lost) + " worker_lost)";
  }
  for (const auto& [label, percentile] :
       std::vector<std::pair<std::string, double>>{{"p50", 50}, {"p99", 99}, {"max", 100}}) {
    Figure figure;
    figure.name = name + ": each answers again, " + label;
    figure.unit = "ms";
    figure.ccmesh = outcome.answered.percentileMicros(percentile) / 1000.0;
    figure.note = note;
    // The goals of the issue: kill -9 within 250 ms at p99; silence within the expiry plus
    // 100 ms. p50 and max are shown beside them for information.
    const bool goal_row = label == "p99";
    if (scenario.frozen) {
      figure.limit = expiry_ms;
      figure.limit_name = "worker expiry: liveness x heartbeat + one heartbeat of margin";
      figure.goal = goal_row ? Goal::kAddedAtMost : Goal::kNone;
      figure.threshold = 100;
      figure.goal_text = goal_row ? "<= expiry + 100 ms" : "";
    } else {
      figure.goal = goal_row ? Goal::kValueAtMost : Goal::kNone;
      figure.threshold = 250;
      figure.goal_text = goal_row ? "<= 250 ms (no waiting for heartbeats)" : "";
    }
    figures.add(std::move(figure));
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto args = BenchArguments::parse(argc, argv, kUsage, {"--sessions"});
    if (args.help) return 0;
    std::vector<std::size_t> sizes{10, 100};
    std::vector<int> heartbeats{1000, 100};
    if (args.smoke) {
      sizes = {3};
      heartbeats = {100};
    }
    if (args.numbers.count("--sessions")) sizes = {args.number("--sessions", 10)};
    FigureReport figures("ccmesh-bench-failover", args.smoke);
    for (bool frozen : {false, true}) {
      for (int heartbeat_ms : heartbeats) {
        for (std::size_t sessions : sizes) {
          const Scenario scenario{frozen, sessions, heartbeat_ms};
          std::cerr << describe(scenario) << " ..." << std::endl;
          report(figures, scenario, run(scenario));
        }
      }
    }
    figures.print();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-bench-failover: " << e.what() << "\n";
    return 1;
  }
}
