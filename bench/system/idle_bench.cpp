// ccmesh-bench-idle: one worker holding many named on-demand sessions under a small live
// budget (--max-live): resident memory per name in broker and worker, the time to register
// the names, and the latency of a random query mix over them (hot sessions whose CLI is
// live, first starts, and resumes of hibernated sessions). Prints one JSON object.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_arguments.hpp"
#include "bench_cluster.hpp"
#include "figure_report.hpp"
#include "harness/wait_for.hpp"
#include "latency_samples.hpp"
#include "process_probe.hpp"

using namespace ccmesh;
using namespace ccmesh::bench;
using SteadyTime = std::chrono::steady_clock;

namespace {

// How much of everything to do; --smoke shrinks it to a few seconds.
struct Sizes {
  std::size_t names = 10000;     // on-demand sessions registered on the one worker
  uint32_t max_live = 32;        // the worker's live budget
  std::size_t hot = 8;           // names that take 40 % of the queries (CLIs mostly live)
  std::size_t returning = 1000;  // names queried once before the mix, then 40 % of it
  std::size_t queries = 500;     // measured queries, one at a time
};

Sizes sizesFor(bool smoke) {
  Sizes sizes;
  if (smoke) {
    sizes.names = 200;
    sizes.max_live = 4;
    sizes.hot = 2;
    sizes.returning = 20;
    sizes.queries = 20;
  }
  return sizes;
}

std::string sessionName(std::size_t i) { return "user:" + std::to_string(i); }

void expectOk(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

// Resident memory of both processes, in KiB.
struct Resident {
  int64_t broker = 0;
  int64_t worker = 0;
};

Resident resident(BenchCluster& cluster) {
  return {ProcessProbe(cluster.broker().pid()).residentKiB(),
          ProcessProbe(cluster.worker("idle-worker").pid()).residentKiB()};
}

// Starts every name on demand, one request at a time; returns the seconds it took.
// How long registering took: all names, and the first and the last tenth of them (a
// growing registry must not make a start slower).
struct Registration {
  double seconds = 0;
  double first_tenth_seconds = 0;
  double last_tenth_seconds = 0;
};

Registration registerNames(const Sizes& sizes, client::Client& client) {
  SessionOptions options;
  options.start = std::string(SessionOptions::kStartOnDemand);
  const std::size_t tenth = std::max<std::size_t>(1, sizes.names / 10);
  const auto start = SteadyTime::now();
  auto since = [](SteadyTime::time_point from) {
    return std::chrono::duration<double>(SteadyTime::now() - from).count();
  };
  Registration took;
  SteadyTime::time_point last_tenth{};
  for (std::size_t i = 0; i < sizes.names; ++i) {
    if (i == sizes.names - tenth) last_tenth = SteadyTime::now();
    auto ack = client.start(sessionName(i), options);
    expectOk(ack.ok(), "start " + sessionName(i) + ": " + (ack ? "" : ack.error().message));
    if (i + 1 == tenth) took.first_tenth_seconds = since(start);
  }
  took.last_tenth_seconds = since(last_tenth);
  took.seconds = since(start);
  const bool hibernated = test::waitFor(
      [&] {
        auto count = client.count();
        return count && count->states["hibernated"] >= sizes.names;
      },
      Millis(60000));
  expectOk(hibernated, "the names did not all report hibernated");
  return took;
}

// Latencies of the query mix, by what the query found.
struct Mix {
  LatencySamples all;          // every measured query
  LatencySamples hot;          // a hot name (its CLI normally live)
  LatencySamples first_start;  // a name never queried before: a new CLI
  LatencySamples resume;       // a name queried before, likely hibernated: --resume
};

// 40 % of the queries go to the hot names, 40 % to the returning names (each had one turn
// before, so its CLI was most likely hibernated to make room: a resume), 20 % to any name
// (mostly a first start).
Mix runMix(const Sizes& sizes, client::Client& client) {
  std::mt19937_64 random(4711);
  std::uniform_int_distribution<std::size_t> any(0, sizes.names - 1);
  std::uniform_int_distribution<std::size_t> hot(0, sizes.hot - 1);
  std::uniform_int_distribution<std::size_t> returning(sizes.hot, sizes.hot + sizes.returning - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  std::vector<bool> queried(sizes.names, false);
  auto ask = [&](std::size_t i) {
    const auto start = SteadyTime::now();
    auto reply = client.query(sessionName(i), "hello");
    const auto took = SteadyTime::now() - start;
    expectOk(reply.ok(), "query " + sessionName(i) + ": " + (reply ? "" : reply.error().message));
    return took;
  };
  // Warm-up: every returning name has one turn, then the hot names get their CLIs.
  for (std::size_t i = sizes.hot + sizes.returning; i-- > 0;) {
    ask(i);
    queried[i] = true;
  }
  Mix mix;
  for (std::size_t n = 0; n < sizes.queries; ++n) {
    const int draw = percent(random);
    const bool is_hot = draw < 40;
    const std::size_t i = is_hot ? hot(random) : draw < 80 ? returning(random) : any(random);
    const bool seen = queried[i];
    const auto took = ask(i);
    queried[i] = true;
    mix.all.add(took);
    if (is_hot) {
      mix.hot.add(took);
    } else if (seen) {
      mix.resume.add(took);
    } else {
      mix.first_start.add(took);
    }
  }
  return mix;
}

void addLatency(FigureReport& report, const std::string& what, const LatencySamples& samples,
                const std::string& note) {
  for (double p : {50.0, 99.0}) {
    Figure figure;
    figure.name = what + ", p" + std::to_string(static_cast<int>(p));
    figure.unit = "µs";
    figure.ccmesh = samples.percentileMicros(p);
    figure.note = std::to_string(samples.count()) + " queries; " + note;
    report.add(figure);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto args = BenchArguments::parse(
        argc, argv,
        "Usage: ccmesh-bench-idle [--smoke]\nMemory per on-demand name, registration time and "
        "a query mix under --max-live; prints JSON.");
    if (args.help) return 0;
    const Sizes sizes = sizesFor(args.smoke);
    FigureReport report("ccmesh-bench-idle", args.smoke);
    BenchCluster cluster;
    cluster.startWorker("idle-worker", {"--capacity", std::to_string(sizes.names), "--max-live",
                                        std::to_string(sizes.max_live)});
    auto client = cluster.client();
    const std::string names = std::to_string(sizes.names);

    // Let both processes settle before the baseline.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const Resident before = resident(cluster);
    std::cerr << "registering " << names << " on-demand names...\n";
    const Registration took = registerNames(sizes, *client);
    const Resident after = resident(cluster);
    report.add({"register " + names + " on-demand names, one start at a time", "s", took.seconds,
                std::nullopt, "", Goal::kNone, 0, "", "start -> placed -> worker ack, in series"});
    const double tenth = static_cast<double>(std::max<std::size_t>(1, sizes.names / 10));
    report.add({"registration rate, first tenth of the names", "names/s",
                tenth / took.first_tenth_seconds, std::nullopt, "", Goal::kNone, 0, "", ""});
    report.add({"registration rate, last tenth of the names", "names/s",
                tenth / took.last_tenth_seconds, std::nullopt, "", Goal::kNone, 0, "",
                "with the other nine tenths registered"});
    const auto per_name = [&](int64_t grown_kib) {
      return static_cast<double>(grown_kib) * 1024.0 / static_cast<double>(sizes.names);
    };
    report.add({"broker memory per registered name", "bytes",
                per_name(after.broker - before.broker), std::nullopt, "", Goal::kNone, 0, "",
                "resident growth over " + names + " names"});
    report.add({"worker memory per hosted on-demand name", "bytes",
                per_name(after.worker - before.worker), std::nullopt, "", Goal::kNone, 0, "",
                "resident growth over " + names + " names, no CLI process"});

    std::cerr << "query mix...\n";
    const Mix mix = runMix(sizes, *client);
    const std::string budget = "--max-live " + std::to_string(sizes.max_live);
    addLatency(report, "query, random mix over " + names + " names", mix.all,
               "40 % to " + std::to_string(sizes.hot) + " hot names, 40 % to " +
                   std::to_string(sizes.returning) + " returning ones, 20 % to any; " + budget);
    addLatency(report, "query, hot name (CLI mostly live)", mix.hot, budget);
    addLatency(report, "query, first start of an on-demand name", mix.first_start,
               "includes hibernating the least recently used CLI");
    addLatency(report, "query, resume of a hibernated name", mix.resume,
               "--resume, plus hibernating the least recently used CLI; a few were still live");

    const bool settled = test::waitFor(
        [&] {
          auto now = client->status();
          return now && !now->workers.empty() && now->workers[0].live <= sizes.max_live;
        },
        Millis(5000));
    auto status = client->status();
    expectOk(status.ok() && !status->workers.empty(), "status failed");
    report.add({"live CLIs after the mix", "processes",
                static_cast<double>(status->workers[0].live), std::nullopt, "", Goal::kValueAtMost,
                static_cast<double>(sizes.max_live), "<= " + std::to_string(sizes.max_live),
                settled ? "hibernated: " + std::to_string(status->workers[0].hibernated) : ""});
    report.print();
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-bench-idle: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
