// ccmesh-bench-memory: broker memory per registered session name (10k and 100k names, no
// worker connected so every name is pending) and worker memory per live session with its
// CLI process excluded, both as resident-set growth read from /proc. Prints one JSON object.
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_arguments.hpp"
#include "bench_cluster.hpp"
#include "figure_report.hpp"
#include "process_probe.hpp"

using namespace ccmesh;
using namespace ccmesh::bench;

namespace {

// Names like "session-000042": 14 bytes, longer than the small-string buffer, as real
// names usually are.
std::string nameOf(std::size_t i) {
  std::string digits = std::to_string(i);
  return "session-" + std::string(6 - std::min<std::size_t>(6, digits.size()), '0') + digits;
}

void registerNames(client::Client& client, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    auto ack = client.start(nameOf(i));
    if (!ack) throw std::runtime_error("start " + nameOf(i) + ": " + ack.error().message);
  }
}

void measureBroker(bool smoke, FigureReport& report) {
  const std::vector<std::size_t> steps =
      smoke ? std::vector<std::size_t>{100, 1000} : std::vector<std::size_t>{10000, 100000};
  BenchCluster cluster;  // a broker and no worker: every name stays pending
  auto client = cluster.client();
  if (!client->ping()) throw std::runtime_error("broker does not answer");
  const ProcessProbe broker(cluster.broker().pid());
  const int64_t baseline = broker.residentKiB();
  std::size_t registered = 0;
  for (const std::size_t names : steps) {
    registerNames(*client, registered, names);
    registered = names;
    auto count = client->count();
    if (!count || count->count != names) throw std::runtime_error("names were not registered");
    const double per_name =
        static_cast<double>(broker.residentKiB() - baseline) * 1024.0 / static_cast<double>(names);
    report.add({"broker memory per registered session, " + std::to_string(names) + " names",
                "B/name", per_name, std::nullopt, "", Goal::kValueAtMost, 2048, "≤ 2048 B/name",
                "broker RSS growth over its idle RSS of " + std::to_string(baseline) +
                    " KiB; names pending"});
  }
}

void measureWorker(bool smoke, FigureReport& report) {
  const std::size_t sessions = smoke ? 4 : 100;
  BenchCluster cluster;
  auto& worker = cluster.startWorker("memory-worker", {"--capacity", std::to_string(sessions)});
  auto client = cluster.client();
  const ProcessProbe probe(worker.pid());
  const int64_t baseline = probe.residentKiB();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < sessions; ++i) names.push_back(nameOf(i));
  cluster.startSessions(names);
  // Live sessions: each has run a turn, so its buffers are as they stay.
  for (const auto& name : names) {
    auto reply = client->query(name, "hello");
    if (!reply) throw std::runtime_error("query " + name + ": " + reply.error().message);
  }
  const double per_session =
      static_cast<double>(probe.residentKiB() - baseline) / static_cast<double>(sessions);
  report.add({"worker memory per live session, CLI excluded", "KiB/session", per_session,
              std::nullopt, "", Goal::kValueAtMost, 256, "≤ 256 KiB/session",
              std::to_string(sessions) +
                  " sessions, one turn each; worker RSS growth over its "
                  "idle RSS of " +
                  std::to_string(baseline) + " KiB"});
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto args = BenchArguments::parse(
        argc, argv,
        "Usage: ccmesh-bench-memory [--smoke]\nBroker memory per session name and "
        "worker memory per live session; prints JSON.");
    if (args.help) return 0;
    FigureReport report("ccmesh-bench-memory", args.smoke);
    std::cerr << "broker memory per name...\n";
    measureBroker(args.smoke, report);
    std::cerr << "worker memory per session...\n";
    measureWorker(args.smoke, report);
    report.print();
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-bench-memory: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
