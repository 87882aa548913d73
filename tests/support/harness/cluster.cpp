#include "harness/cluster.hpp"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "harness/ready_file.hpp"

namespace ccmesh::test {

Cluster::Cluster(std::vector<std::string> broker_args) : broker_args_(std::move(broker_args)) {
  launchBroker("tcp://127.0.0.1:*", "tcp://127.0.0.1:*");
}

void Cluster::restartBroker(std::vector<std::string> broker_args,
                            std::vector<std::string> launcher) {
  broker_args_ = std::move(broker_args);
  launcher_ = std::move(launcher);
  restartBroker();
}

void Cluster::restartBroker() {
  if (broker_->running()) {
    broker_->signal(SIGKILL);
    broker_->waitExit(kEventDeadline);
  }
  launchBroker(frontend_, backend_);
}

void Cluster::launchBroker(const std::string& frontend, const std::string& backend) {
  const std::string ready = brokerFile(++broker_runs_, ".ready");
  std::vector<std::string> args{"--frontend",   frontend, "--backend",   backend,
                                "--ready-file", ready,    "--log-level", "debug"};
  // The HTTP endpoint runs as in production, on a free port (unless the test sets it).
  if (std::find(broker_args_.begin(), broker_args_.end(), "--http") == broker_args_.end()) {
    args.insert(args.end(), {"--http", "127.0.0.1:0"});
  }
  args.insert(args.end(), broker_args_.begin(), broker_args_.end());
  std::string program = binaryPath("ccmesh-broker");
  if (!launcher_.empty()) {
    args.insert(args.begin(), program);
    args.insert(args.begin(), launcher_.begin() + 1, launcher_.end());
    program = launcher_.front();
  }
  broker_ = std::make_unique<Process>(program, args, brokerFile(broker_runs_, ".log"));
  auto endpoints = waitForBrokerEndpoints(*broker_, ready);
  frontend_ = std::move(endpoints.frontend);
  backend_ = std::move(endpoints.backend);
  http_ = std::move(endpoints.http);
}

std::string Cluster::homeOf(const std::string& worker_id) const {
  return dir() + "/home-" + worker_id;
}

Process& Cluster::spawnWorker(const std::string& id, std::vector<std::string> args) {
  return spawnWorkerAs(id, id, std::move(args));
}

Process& Cluster::spawnWorkerAs(const std::string& label, const std::string& id,
                                std::vector<std::string> args) {
  const std::string home = homeOf(label);
  std::filesystem::create_directories(home);
  std::vector<std::string> all{"--broker", backend_, "--id", id, "--log-level", "debug"};
  all.insert(all.end(), args.begin(), args.end());
  std::map<std::string, std::string> env{{"HOME", home}, {"CLAUDE_CONFIG_DIR", home + "/.claude"}};
  workers_.erase(label);
  auto process = std::make_unique<Process>(binaryPath("ccmesh-worker"), all,
                                           dir() + "/worker-" + label + ".log", env);
  auto& ref = *process;
  workers_[label] = std::move(process);
  return ref;
}

Process& Cluster::startWorker(const std::string& id, std::vector<std::string> args) {
  auto& process = spawnWorker(id, std::move(args));
  auto probe = client(Millis(2000));
  bool joined = waitFor([&] {
    auto status = probe->status();
    if (!status) return false;
    for (const auto& w : status->workers) {
      if (w.id == id) return true;
    }
    return false;
  });
  if (!joined) throw std::runtime_error("worker " + id + " did not join; logs:\n" + logs());
  return process;
}

std::string Cluster::startWorkerWithHttp(const std::string& id, std::vector<std::string> args) {
  const std::string ready = dir() + "/worker-" + id + ".ready";
  args.insert(args.end(), {"--http", "127.0.0.1:0", "--ready-file", ready});
  auto& process = startWorker(id, std::move(args));
  return waitForReadyFile(process, ready, {"http"})["http"];
}

bool Cluster::waitForWorkers(size_t count) {
  auto probe = client(Millis(2000));
  return waitFor([&] {
    auto status = probe->status();
    return status && status->workers.size() == count;
  });
}

std::unique_ptr<client::Client> Cluster::client(Millis timeout) const {
  client::ClientOptions options;
  options.broker = frontend_;
  options.timeout = timeout;
  return std::make_unique<client::Client>(options);
}

std::string Cluster::brokerFile(int run, const char* extension) const {
  return dir() + "/broker" + (run == 1 ? "" : "-" + std::to_string(run)) + extension;
}

std::string Cluster::logs() const {
  std::string all;
  for (int run = 1; run < broker_runs_; ++run) {
    std::ifstream file(brokerFile(run, ".log"));
    all += "--- broker (run " + std::to_string(run) + ", ended) ---\n";
    all.append(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  all += "--- broker ---\n" + broker_->log();
  for (const auto& [id, process] : workers_) {
    all += "--- worker " + id + " ---\n" + process->log();
  }
  return all;
}

}  // namespace ccmesh::test
