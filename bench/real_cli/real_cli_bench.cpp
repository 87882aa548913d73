// ccmesh-bench-real-cli: the real Claude Code CLI under a worker against the fake Anthropic
// Messages API, beside the same CLI driven directly: cold start (spawn to ready), time to
// first token, and resident memory of an idle `claude` process. Prints one JSON object.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_arguments.hpp"
#include "bench_cluster.hpp"
#include "direct_claude.hpp"
#include "fake_anthropic_api/fake_anthropic_api.hpp"
#include "figure_report.hpp"
#include "latency_samples.hpp"
#include "process_probe.hpp"

using namespace ccmesh;
using namespace ccmesh::bench;

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "Usage: ccmesh-bench-real-cli [--smoke]\n\n"
    "Runs the real Claude Code CLI ($CCMESH_CLAUDE_CLI, else the one scripts/install-claude.sh\n"
    "installed) under a worker and directly, against a local fake Messages API, and prints\n"
    "cold start, time to first token and idle memory as one JSON object.";
constexpr const char* kPrompt = "Say hello to the benchmark";

// How much to measure.
struct Counts {
  std::size_t sessions;  // cold starts each way (and idle processes measured)
  std::size_t turns;     // turns each way for the time to first token
};

std::string claudePath() {
  const char* configured = std::getenv("CCMESH_CLAUDE_CLI");
  return configured != nullptr && *configured != '\0' ? configured : CCMESH_CLAUDE_CLI;
}

std::vector<std::string> apiEnvironment(const test::FakeAnthropicApi& api) {
  return {"ANTHROPIC_BASE_URL=" + api.baseUrl(), "ANTHROPIC_API_KEY=test",
          "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1"};
}

double millis(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

// Session `name` under the worker: start it in `work_dir` and wait until it is idle.
// Returns spawn-to-ready as the client sees it (start request until `info` says idle).
std::chrono::nanoseconds startSession(client::Client& client, const std::string& name,
                                      const std::string& work_dir) {
  SessionOptions options;
  options.cwd = work_dir;
  const auto start = SteadyClock::now();
  auto ack = client.start(name, options);
  if (!ack) throw std::runtime_error("start " + name + ": " + ack.error().message);
  while (true) {
    auto info = client.info(name);
    if (info && info->state == "idle") break;
    if (info && info->state == "failed") throw std::runtime_error(name + " failed");
    if (SteadyClock::now() - start > std::chrono::seconds(60)) {
      throw std::runtime_error(name + " did not become idle");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling under a deadline
  }
  return SteadyClock::now() - start;
}

// Waits until the CPU time of every process in `pids` stops growing (three 100 ms polls in
// a row), or 10 s passed.
void waitUntilQuiet(const std::vector<pid_t>& pids) {
  auto total = [&pids] {
    double seconds = 0;
    for (pid_t pid : pids) seconds += std::max(0.0, ProcessProbe(pid).cpuSeconds());
    return seconds;
  };
  const auto give_up = SteadyClock::now() + std::chrono::seconds(10);
  double last = total();
  for (int quiet = 0; quiet < 3 && SteadyClock::now() < give_up;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // sampling CPU time
    const double now = total();
    quiet = now == last ? quiet + 1 : 0;
    last = now;
  }
}

// Time from sending a streamed query until its first delta event.
std::chrono::nanoseconds clusterFirstDelta(client::Client& client, const std::string& session) {
  client::QueryOptions options;
  options.stream = true;
  std::optional<SteadyClock::time_point> first;
  const auto start = SteadyClock::now();
  auto reply = client.query(session, kPrompt, options, [&first](const msg::Event&) {
    if (!first) first = SteadyClock::now();
  });
  if (!reply) throw std::runtime_error("query " + session + ": " + reply.error().message);
  if (!first) throw std::runtime_error("no delta reached the client");
  return *first - start;
}

void run(const Counts& counts, const std::string& claude, FigureReport& report) {
  test::FakeAnthropicApi api;
  BenchCluster cluster;
  std::vector<std::string> worker_args{"--cli", claude};
  for (const auto& entry : apiEnvironment(api)) {
    worker_args.push_back("--cli-env");
    worker_args.push_back(entry);
  }
  cluster.startWorker("real-cli", worker_args);
  auto client = cluster.client();
  const std::string root = cluster.dir();

  // Cold starts and idle memory, alternating the two ways. A fresh claude keeps working for
  // a second or so after its initialize answer; each start waits until every CLI is quiet,
  // so no start competes with the one before it for the CPU. The direct CLIs share one
  // HOME, as the worker's CLIs share the worker's: each way, only the first start finds an
  // empty config dir.
  const std::string direct_home = root + "/home-direct";
  std::filesystem::create_directories(direct_home);
  std::vector<double> worker_starts, worker_rss, direct_starts, direct_rss;
  std::vector<std::unique_ptr<DirectClaude>> direct_clis;
  std::vector<pid_t> pids;
  for (std::size_t i = 0; i < counts.sessions; ++i) {
    const std::string name = "cold-" + std::to_string(i);
    const std::string work_dir = root + "/work-" + name;
    std::filesystem::create_directories(work_dir);
    worker_starts.push_back(millis(startSession(*client, name, work_dir)));
    auto info = client->info(name);
    if (!info || info->pid <= 0) throw std::runtime_error("no CLI pid for an idle session");
    pids.push_back(static_cast<pid_t>(info->pid));
    waitUntilQuiet(pids);

    const std::string dir = root + "/direct-" + std::to_string(i);
    std::filesystem::create_directories(dir);
    direct_clis.push_back(
        std::make_unique<DirectClaude>(claude, dir, direct_home, apiEnvironment(api)));
    direct_starts.push_back(millis(direct_clis.back()->coldStart()));
    pids.push_back(direct_clis.back()->pid());
    waitUntilQuiet(pids);
  }
  for (std::size_t i = 0; i < pids.size(); ++i) {
    const double mib = static_cast<double>(ProcessProbe(pids[i]).residentKiB()) / 1024;
    (i % 2 == 0 ? worker_rss : direct_rss).push_back(mib);
  }
  direct_clis.clear();

  // Time to first token: the same prompt, turn after turn, alternating the two ways.
  LatencySamples through_cluster, direct_turns;
  const std::string dir = root + "/direct-ttft";
  std::filesystem::create_directories(dir);
  DirectClaude direct(claude, dir, direct_home, apiEnvironment(api));
  for (std::size_t i = 0; i < counts.turns; ++i) {
    direct_turns.add(direct.firstDelta(kPrompt));
    through_cluster.add(clusterFirstDelta(*client, "cold-0"));
  }

  const std::string sessions = std::to_string(counts.sessions);
  report.add(
      {"claude cold start, spawn to ready, p50", "ms", median(worker_starts), median(direct_starts),
       "claude started directly, to its initialize answer", Goal::kAddedAtMost, 100, "≤ +100 ms",
       sessions + " starts each way, alternating, each once the CLIs before it were quiet; under "
                  "the worker: from the client's start until info says idle"});
  report.add({"claude time to first token, p50", "ms", through_cluster.percentileMicros(50) / 1000,
              direct_turns.percentileMicros(50) / 1000, "claude driven directly over pipes",
              Goal::kAddedAtMost, 5, "≤ +5 ms",
              std::to_string(counts.turns) +
                  " turns each way with the same prompt and the same fake API; from sending the "
                  "prompt until the first text delta"});
  report.add({"resident memory per idle claude session, p50", "MiB", median(worker_rss),
              median(direct_rss), "claude started directly, idle", Goal::kRatioAtMost, 1.1,
              "≤ 1.1× direct",
              sessions + " idle sessions after initialize; VmRSS of the claude process"});
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto arguments = BenchArguments::parse(argc, argv, kUsage);
    if (arguments.help) return 0;
    FigureReport report("ccmesh-bench-real-cli", arguments.smoke);
    const std::string claude = claudePath();
    if (::access(claude.c_str(), X_OK) != 0) {
      // Nothing to measure: the table then says why.
      std::cerr << "ccmesh-bench-real-cli: no Claude Code CLI at " << claude
                << "; run scripts/install-claude.sh\n";
      report.print();
      return 0;
    }
    const Counts counts = arguments.smoke ? Counts{1, 2} : Counts{5, 30};
    run(counts, claude, report);
    report.print();
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "ccmesh-bench-real-cli: " << error.what() << "\n";
    return 1;
  }
}
