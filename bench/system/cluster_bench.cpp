// ccmesh-bench-cluster: round trip, throughput, time to first delta and deltas per second
// through a real broker, worker and mock CLI on loopback, each beside its limit measured in
// the same run (plain ZeroMQ echo, or the mock CLI over pipes), with the CPU time each
// process spent per operation. Prints one JSON object.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_arguments.hpp"
#include "bench_cluster.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/requests.hpp"
#include "closed_loop.hpp"
#include "cpu_ledger.hpp"
#include "direct_cli.hpp"
#include "echo_limit.hpp"
#include "figure_report.hpp"
#include "harness/wait_for.hpp"
#include "latency_samples.hpp"

using namespace ccmesh;
using namespace ccmesh::bench;
using SteadyTime = std::chrono::steady_clock;

namespace {

constexpr const char* kUsage =
    "Usage: ccmesh-bench-cluster [--smoke] [--round-trips N] [--throughput N]\n"
    "                            [--first-deltas N] [--deltas N]\n"
    "Round trip, throughput and streaming through ccmesh beside plain ZeroMQ and the mock\n"
    "CLI over pipes; prints JSON. The counts are per block (0 skips the figure).";

// How much of everything to do; --smoke shrinks it to a second or so.
struct Sizes {
  std::size_t blocks = 10;         // ccmesh and its limit alternate this many times
  std::size_t round_trips = 400;   // per block
  std::size_t in_flight = 64;      // throughput: prompts in flight, one session each
  std::size_t throughput = 6000;   // per block (throughput runs 2 blocks)
  std::size_t first_deltas = 100;  // per block
  std::size_t deltas = 100000;     // deltas in one streamed answer
  std::size_t delta_bytes = 16;    // bytes per delta: about a token
  std::size_t warm_up = 50;        // turns before anything is measured
};

Sizes sizesFor(const BenchArguments& args) {
  Sizes sizes;
  if (args.smoke) {
    sizes.blocks = 2;
    sizes.round_trips = 10;
    sizes.throughput = 128;
    sizes.first_deltas = 5;
    sizes.deltas = 1000;
    sizes.warm_up = 5;
  }
  sizes.round_trips = args.number("--round-trips", sizes.round_trips);
  sizes.throughput = args.number("--throughput", sizes.throughput);
  sizes.first_deltas = args.number("--first-deltas", sizes.first_deltas);
  sizes.deltas = args.number("--deltas", sizes.deltas);
  return sizes;
}

// What the measurements share.
struct Bench {
  Sizes sizes;
  client::Client& client;
  EchoLimit& echo;
  DirectCli& direct;
  CpuLedger& ledger;
  FigureReport& report;
};

std::string sessionName(std::size_t i) { return "tp-" + std::to_string(i); }

// The query body ccmesh's client sends, as the echo's payload: the same bytes on the wire.
std::string queryPayload(const std::string& session, const std::string& prompt) {
  const auto body = encodeBody(msg::Query{1, session, prompt, false, 0, 0});
  return std::string(body.data(), body.size());
}

void expectOk(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

LatencySamples ccmeshRoundTrips(client::Client& client, std::size_t count,
                                const std::string& session = "rt") {
  LatencySamples samples;
  samples.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto start = SteadyTime::now();
    auto reply = client.query(session, "hello");
    samples.add(SteadyTime::now() - start);
    expectOk(reply.ok(), "round trip query failed: " + (reply ? "" : reply.error().message));
  }
  return samples;
}

std::chrono::nanoseconds ccmeshFirstDelta(client::Client& client) {
  client::QueryOptions options;
  options.stream = true;
  SteadyTime::time_point first{};
  const auto start = SteadyTime::now();
  auto reply = client.query("ttfd", "hello", options, [&](const msg::Event&) {
    if (first == SteadyTime::time_point{}) first = SteadyTime::now();
  });
  expectOk(reply.ok() && first != SteadyTime::time_point{}, "streamed query got no delta");
  return first - start;
}

// Deltas per second the client receives from one streamed answer of `count` deltas of
// `bytes` each, counted by the text that arrived (the worker merges deltas that queue up
// behind its link, so an event may carry several).
double ccmeshDeltaRate(client::Client& client, std::size_t count, std::size_t bytes) {
  client::QueryOptions options;
  options.stream = true;
  std::size_t events = 0;
  std::size_t text = 0;
  const auto start = SteadyTime::now();
  auto reply =
      client.query("deltas", "/deltas " + std::to_string(count) + " " + std::to_string(bytes),
                   options, [&](const msg::Event& event) {
                     ++events;
                     text += event.text.size();
                   });
  const std::chrono::duration<double> elapsed = SteadyTime::now() - start;
  expectOk(reply.ok(), "streamed query failed: " + (reply ? "" : reply.error().message));
  expectOk(reply->text.size() == count * bytes, "streamed answer has the wrong length");
  if (text != count * bytes) {
    std::cerr << "deltas: " << count * bytes - text << " of " << count * bytes
              << " bytes of text missing from the events\n";
  }
  std::cerr << "deltas: " << count << " deltas arrived in " << events << " events\n";
  return static_cast<double>(text) / static_cast<double>(bytes) / elapsed.count();
}

void measureRoundTrip(Bench& bench) {
  bench.ledger.reset();
  const auto& sizes = bench.sizes;
  const std::string payload = queryPayload("rt", "hello");
  ccmeshRoundTrips(bench.client, sizes.warm_up);
  bench.echo.roundTrips(sizes.warm_up, payload);
  LatencySamples ccmesh;
  LatencySamples limit;
  LatencySamples cli_turns;
  for (std::size_t block = 0; block < sizes.blocks; ++block) {
    bench.ledger.start();
    ccmesh.merge(ccmeshRoundTrips(bench.client, sizes.round_trips));
    bench.ledger.stop();
    limit.merge(bench.echo.roundTrips(sizes.round_trips, payload));
    for (std::size_t i = 0; i < sizes.round_trips; ++i) {
      cli_turns.add(bench.direct.turn("hello").result);
    }
  }
  const std::string limit_name = "ZeroMQ DEALER→ROUTER→DEALER echo, same payload";
  const std::string note =
      std::to_string(ccmesh.count()) +
      " round trips each, interleaved; the mock CLI's own turn over pipes "
      "takes p50 " +
      std::to_string(static_cast<long>(cli_turns.percentileMicros(50))) + " µs, p99 " +
      std::to_string(static_cast<long>(cli_turns.percentileMicros(99))) + " µs; " +
      bench.ledger.perOperation(static_cast<double>(ccmesh.count()), "query");
  bench.report.add({"round trip, one prompt in flight, p50", "µs", ccmesh.percentileMicros(50),
                    limit.percentileMicros(50), limit_name, Goal::kRatioAtMost, 2.0, "≤ 2× limit",
                    note});
  bench.report.add({"round trip, one prompt in flight, p99", "µs", ccmesh.percentileMicros(99),
                    limit.percentileMicros(99), limit_name, Goal::kNone, 0, "—", note});
}

// What mirroring transcripts to the broker adds to a turn: the same round trip on a
// session whose worker mirrors (the default) and on one whose worker was started with
// --transcript-mirror false, interleaved; and the transcript bytes the broker gains a turn.
void measureMirroring(Bench& bench, BenchCluster& cluster) {
  cluster.startWorker("mirroring", {"--labels", "mirror=on"});
  cluster.startWorker("not-mirroring", {"--labels", "mirror=off", "--transcript-mirror", "false"});
  for (const char* side : {"on", "off"}) {
    SessionOptions options;
    options.require["mirror"] = side;
    auto ack = bench.client.start(std::string("mirror-") + side, options);
    expectOk(ack.ok(), "start failed: " + (ack ? "" : ack.error().message));
  }
  const bool idle = test::waitFor([&] {
    for (const char* name : {"mirror-on", "mirror-off"}) {
      auto info = bench.client.info(name);
      if (!info || info->state != "idle") return false;
    }
    return true;
  });
  expectOk(idle, "the mirroring sessions did not start");
  const auto& sizes = bench.sizes;
  ccmeshRoundTrips(bench.client, sizes.warm_up, "mirror-on");
  ccmeshRoundTrips(bench.client, sizes.warm_up, "mirror-off");
  LatencySamples mirrored;
  LatencySamples plain;
  uint64_t bytes = 0;
  for (std::size_t block = 0; block < sizes.blocks; ++block) {
    auto before = bench.client.status();
    expectOk(before.ok(), "status failed");
    mirrored.merge(ccmeshRoundTrips(bench.client, sizes.round_trips, "mirror-on"));
    auto after = bench.client.status();
    expectOk(after.ok(), "status failed");
    bytes += after->transcript_bytes - std::min(after->transcript_bytes, before->transcript_bytes);
    plain.merge(ccmeshRoundTrips(bench.client, sizes.round_trips, "mirror-off"));
  }
  const std::string limit_name =
      "the same round trip, worker started with --transcript-mirror false";
  const std::string note = std::to_string(mirrored.count()) + " round trips each, interleaved";
  for (const auto& [label, percentile] :
       std::vector<std::pair<std::string, double>>{{"p50", 50}, {"p99", 99}}) {
    const double with = mirrored.percentileMicros(percentile);
    const double without = plain.percentileMicros(percentile);
    bench.report.add(
        {"transcript mirroring: round trip, " + label, "µs", with, without, limit_name, Goal::kNone,
         0, "— (added " + std::to_string(static_cast<long>(with - without)) + " µs)", note});
  }
  bench.report.add({"transcript mirroring: bytes the broker keeps per turn (mock CLI)", "B",
                    static_cast<double>(bytes) / static_cast<double>(mirrored.count()),
                    std::nullopt, "", Goal::kNone, 0, "—",
                    "the mock mirrors a user and an assistant entry a turn; the real claude "
                    "mirrors more (tool calls, metadata)"});
}

void measureThroughput(Bench& bench) {
  bench.ledger.reset();
  const auto& sizes = bench.sizes;
  const std::string payload = queryPayload(sessionName(0), "hello");
  double ccmesh_total = 0;
  double limit_total = 0;
  const std::size_t rounds = 2;
  for (std::size_t round = 0; round < rounds; ++round) {
    bench.ledger.start();
    ccmesh_total +=
        closedLoopThroughput(bench.client, sessionName, sizes.in_flight, sizes.throughput);
    bench.ledger.stop();
    limit_total += bench.echo.throughput(sizes.in_flight, sizes.throughput, payload);
  }
  bench.report.add(
      {"throughput, 64 prompts in flight over 64 sessions", "queries/s", ccmesh_total / rounds,
       limit_total / rounds, "the same echo, 64 in flight", Goal::kRatioAtLeast, 0.5,
       "≥ 0.5× limit",
       std::to_string(rounds) + " rounds of " + std::to_string(sizes.throughput) +
           " answers each, interleaved; " +
           bench.ledger.perOperation(static_cast<double>(rounds * sizes.throughput), "query")});
}

void measureFirstDelta(Bench& bench) {
  const auto& sizes = bench.sizes;
  for (std::size_t i = 0; i < sizes.warm_up; ++i) {
    ccmeshFirstDelta(bench.client);
    bench.direct.turn("hello");
  }
  LatencySamples ccmesh;
  LatencySamples limit;
  for (std::size_t block = 0; block < sizes.blocks; ++block) {
    for (std::size_t i = 0; i < sizes.first_deltas; ++i) ccmesh.add(ccmeshFirstDelta(bench.client));
    for (std::size_t i = 0; i < sizes.first_deltas; ++i) {
      limit.add(bench.direct.turn("hello").first_delta);
    }
  }
  const std::string limit_name = "the mock CLI driven directly over pipes";
  const std::string note = std::to_string(ccmesh.count()) + " turns each, interleaved";
  for (double p : {50.0, 99.0}) {
    const double added = ccmesh.percentileMicros(p) - limit.percentileMicros(p);
    const bool judged = p == 99.0;
    bench.report.add({"time to first delta, p" + std::to_string(static_cast<int>(p)), "µs",
                      ccmesh.percentileMicros(p), limit.percentileMicros(p), limit_name,
                      judged ? Goal::kAddedAtMost : Goal::kNone, 1000.0,
                      std::string(judged ? "added ≤ 1000 µs" : "—") + " (added " +
                          std::to_string(static_cast<long>(added)) + " µs)",
                      note});
  }
}

void measureDeltaRate(Bench& bench) {
  bench.ledger.reset();
  const auto& sizes = bench.sizes;
  const std::string text(sizes.delta_bytes, 'x');
  const auto body = encodeBody(msg::Event{1, 1, "delta", text});
  const std::string frame(body.data(), body.size());
  ccmeshDeltaRate(bench.client, sizes.deltas / 10, sizes.delta_bytes);  // warm-up
  bench.echo.stream(sizes.deltas / 10, frame);
  bench.ledger.start();
  const double ccmesh = ccmeshDeltaRate(bench.client, sizes.deltas, sizes.delta_bytes);
  bench.ledger.stop();
  const double limit = bench.echo.stream(sizes.deltas, frame);
  bench.report.add({"deltas per second streamed to one client", "deltas/s", ccmesh, limit,
                    "raw echo of the same event frames", Goal::kRatioAtLeast, 0.5, "≥ 0.5× limit",
                    std::to_string(sizes.deltas) + " deltas of " +
                        std::to_string(sizes.delta_bytes) + " bytes in one answer; " +
                        bench.ledger.perOperation(static_cast<double>(sizes.deltas), "delta")});
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto args = BenchArguments::parse(
        argc, argv, kUsage, {"--round-trips", "--throughput", "--first-deltas", "--deltas"});
    if (args.help) return 0;
    const Sizes sizes = sizesFor(args);
    FigureReport report("ccmesh-bench-cluster", args.smoke);
    EchoLimit echo;
    BenchCluster cluster;
    auto& worker = cluster.startWorker("bench-worker", {"--capacity", "128"});
    std::vector<std::string> sessions{"rt", "ttfd", "deltas"};
    for (std::size_t i = 0; i < sizes.in_flight; ++i) sessions.push_back(sessionName(i));
    cluster.startSessions(sessions);
    auto client = cluster.client();
    DirectCli direct(cluster.dir());

    // Where the time goes: every process of the path, the CLIs of every session together.
    CpuLedger ledger;
    std::vector<pid_t> clis;
    auto listed = client->list();
    expectOk(listed.ok(), "list failed");
    for (const auto& session : *listed) clis.push_back(static_cast<pid_t>(session.pid));
    ledger.add("broker", {cluster.broker().pid()});
    ledger.add("worker", {worker.pid()});
    ledger.add("mock CLIs", clis);
    ledger.add("client", {::getpid()});

    Bench bench{sizes, *client, echo, direct, ledger, report};
    if (sizes.round_trips > 0) {
      std::cerr << "round trip...\n";
      measureRoundTrip(bench);
    }
    if (sizes.throughput > 0) {
      std::cerr << "throughput...\n";
      measureThroughput(bench);
    }
    if (sizes.first_deltas > 0) {
      std::cerr << "time to first delta...\n";
      measureFirstDelta(bench);
    }
    if (sizes.round_trips > 0) {
      std::cerr << "transcript mirroring...\n";
      measureMirroring(bench, cluster);
    }
    if (sizes.deltas > 0) {
      std::cerr << "deltas per second...\n";
      measureDeltaRate(bench);
    }
    report.print();
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-bench-cluster: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
