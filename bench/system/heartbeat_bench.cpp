// ccmesh-bench-heartbeat: the broker's CPU use while 500 idle workers heartbeat every
// 100 ms and it answers each of them, read from /proc over a window: against one core (the
// goal), and beside a plain ZeroMQ ROUTER answering the same heartbeats from the same
// simulated workers (the floor ZeroMQ and TCP set). Prints one JSON object.
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>

#include "bench_arguments.hpp"
#include "bench_cluster.hpp"
#include "figure_report.hpp"
#include "harness/wait_for.hpp"
#include "heartbeat_echo_router.hpp"
#include "open_files.hpp"
#include "process_probe.hpp"
#include "simulated_workers.hpp"

using namespace ccmesh;
using namespace ccmesh::bench;

namespace {

constexpr Millis kHeartbeat{100};

// What one window of heartbeats cost the process that answered them.
struct WindowCost {
  double core_percent = 0;  // CPU time over wall time, in % of one core
  double heartbeats = 0;    // heartbeats sent per second
  double answers = 0;       // messages received per second
  uint64_t rejoins = 0;     // workers declared dead and registered again
  double seconds = 0;       // the window's length
};

WindowCost measure(pid_t pid, const SimulatedWorkers& workers, Millis window) {
  const ProcessProbe probe(pid);
  const double cpu_before = probe.cpuSeconds();
  const uint64_t sent_before = workers.heartbeatsSent();
  const uint64_t received_before = workers.messagesReceived();
  const uint64_t rejoins_before = workers.rejoins();
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(window);  // the measurement window itself
  WindowCost cost;
  const double cpu = probe.cpuSeconds() - cpu_before;
  cost.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  cost.core_percent = 100.0 * cpu / cost.seconds;
  cost.heartbeats = static_cast<double>(workers.heartbeatsSent() - sent_before) / cost.seconds;
  cost.answers = static_cast<double>(workers.messagesReceived() - received_before) / cost.seconds;
  cost.rejoins = workers.rejoins() - rejoins_before;
  return cost;
}

std::string describe(const WindowCost& cost) {
  return std::to_string(static_cast<long>(cost.heartbeats)) + " heartbeats/s in, " +
         std::to_string(static_cast<long>(cost.answers)) + " messages/s out; " +
         std::to_string(static_cast<long>(cost.seconds * 1000)) + " ms window";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto args = BenchArguments::parse(
        argc, argv,
        "Usage: ccmesh-bench-heartbeat [--smoke] [--workers N] [--window-ms N]\nBroker CPU "
        "with 500 workers heartbeating every 100 ms; prints JSON.",
        {"--workers", "--window-ms"});
    if (args.help) return 0;
    const std::size_t workers = args.number("--workers", args.smoke ? 20 : 500);
    const Millis window(args.number("--window-ms", args.smoke ? 1000 : 10000));
    raiseOpenFileLimit();
    HeartbeatEchoRouter echo_router;  // forked before any thread starts
    FigureReport report("ccmesh-bench-heartbeat", args.smoke);

    WindowCost broker_cost;
    {
      BenchCluster cluster({"--heartbeat-ms", std::to_string(kHeartbeat.count())});
      auto client = cluster.client();
      SimulatedWorkers simulated(cluster.backend(), workers, kHeartbeat);
      // On a loaded machine a worker may be declared dead and rejoin; all must be in at once.
      const bool joined = test::waitFor(
          [&] {
            auto status = client->status();
            return status && status->workers.size() == workers;
          },
          Millis(60000));
      if (!joined) throw std::runtime_error("the simulated workers did not all join");
      std::cerr << "broker CPU over " << window.count() << " ms with " << workers
                << " workers...\n";
      broker_cost = measure(cluster.broker().pid(), simulated, window);
    }
    std::cerr << "plain ZeroMQ ROUTER CPU with the same workers...\n";
    SimulatedWorkers simulated(echo_router.endpoint(), workers, kHeartbeat);
    const bool answered =
        test::waitFor([&] { return simulated.messagesReceived() >= 2 * workers; }, Millis(60000));
    if (!answered) throw std::runtime_error("the echo router does not answer");
    const WindowCost limit_cost = measure(echo_router.pid(), simulated, window);

    const std::string figure =
        "broker CPU, " + std::to_string(workers) + " workers heartbeating every 100 ms";
    report.add({figure, "% of a core", broker_cost.core_percent, 100.0, "one core",
                Goal::kRatioAtMost, 0.10, "≤ 10 % of a core",
                describe(broker_cost) + "; " + std::to_string(broker_cost.rejoins) +
                    " workers declared dead in it"});
    report.add({figure + ", beside plain ZeroMQ", "% of a core", broker_cost.core_percent,
                limit_cost.core_percent,
                "a ZeroMQ ROUTER answering the same heartbeats, nothing decoded", Goal::kNone, 0,
                "—", "limit: " + describe(limit_cost)});
    report.print();
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-bench-heartbeat: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
