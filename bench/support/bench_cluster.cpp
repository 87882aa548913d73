#include "bench_cluster.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "harness/ready_file.hpp"
#include "harness/wait_for.hpp"

namespace ccmesh::bench {
namespace {

constexpr Millis kStartDeadline{60000};  // for anything to come up, even on a loaded machine

// The program and its arguments, behind the command prefix `variable` holds, if any: e.g.
// CCMESH_BENCH_BROKER_PREFIX="valgrind --tool=callgrind" profiles the broker of a run.
std::pair<std::string, std::vector<std::string>> wrapped(const char* variable,
                                                         const std::string& program,
                                                         std::vector<std::string> args) {
  const char* prefix = std::getenv(variable);
  if (prefix == nullptr || *prefix == '\0') return {program, std::move(args)};
  std::vector<std::string> words;
  std::istringstream split(prefix);
  for (std::string word; split >> word;) words.push_back(word);
  words.push_back(program);
  words.insert(words.end(), args.begin(), args.end());
  const std::string first = words.front();
  return {first.find('/') == std::string::npos ? "/usr/bin/" + first : first,
          std::vector<std::string>(words.begin() + 1, words.end())};
}

}  // namespace

BenchCluster::BenchCluster(std::vector<std::string> broker_args) {
  const std::string ready = dir() + "/broker.ready";
  std::vector<std::string> args{
      "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*", "--ready-file",
      ready,        "--log-level",       "warn"};
  if (std::find(broker_args.begin(), broker_args.end(), "--http") == broker_args.end()) {
    args.insert(args.end(), {"--http", "127.0.0.1:0"});
  }
  args.insert(args.end(), broker_args.begin(), broker_args.end());
  auto [program, argv] =
      wrapped("CCMESH_BENCH_BROKER_PREFIX", test::binaryPath("ccmesh-broker"), std::move(args));
  broker_ = std::make_unique<test::Process>(program, argv, dir() + "/broker.log");
  auto endpoints = test::waitForBrokerEndpoints(*broker_, ready, kStartDeadline);
  frontend_ = std::move(endpoints.frontend);
  backend_ = std::move(endpoints.backend);
  http_ = std::move(endpoints.http);
}

test::Process& BenchCluster::startWorker(const std::string& id, std::vector<std::string> args) {
  const std::string home = dir() + "/home-" + id;
  std::filesystem::create_directories(home);
  std::vector<std::string> all{"--broker", backend_, "--id", id, "--log-level", "warn"};
  all.insert(all.end(), args.begin(), args.end());
  std::map<std::string, std::string> env{{"HOME", home}, {"CLAUDE_CONFIG_DIR", home + "/.claude"}};
  auto [program, argv] =
      wrapped("CCMESH_BENCH_WORKER_PREFIX", test::binaryPath("ccmesh-worker"), std::move(all));
  auto& process = *(workers_[id] = std::make_unique<test::Process>(
                        program, argv, dir() + "/worker-" + id + ".log", env));
  auto probe = client(Millis(2000));
  const bool joined = test::waitFor(
      [&] {
        auto status = probe->status();
        if (!status) return false;
        for (const auto& worker : status->workers) {
          if (worker.id == id) return true;
        }
        return false;
      },
      kStartDeadline);
  if (!joined) throw std::runtime_error("worker " + id + " did not join; log:\n" + process.log());
  return process;
}

void BenchCluster::startSessions(const std::vector<std::string>& names) {
  auto control = client();
  for (const auto& name : names) {
    auto ack = control->start(name);
    if (!ack) throw std::runtime_error("start " + name + ": " + ack.error().message);
  }
  const bool idle = test::waitFor(
      [&] {
        auto count = control->count();
        return count && count->states["idle"] >= names.size();
      },
      kStartDeadline);
  if (!idle) throw std::runtime_error("sessions did not all become idle");
}

std::unique_ptr<client::Client> BenchCluster::client(Millis timeout) const {
  client::ClientOptions options;
  options.broker = frontend_;
  options.timeout = timeout;
  return std::make_unique<client::Client>(options);
}

}  // namespace ccmesh::bench
