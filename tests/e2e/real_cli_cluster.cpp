#include "real_cli_cluster.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace ccmesh::test {

std::string claudeCliPath() {
  const char* configured = std::getenv("CCMESH_CLAUDE_CLI");
  const std::string path =
      configured != nullptr && *configured != '\0' ? configured : CCMESH_CLAUDE_CLI;
  return ::access(path.c_str(), X_OK) == 0 ? path : std::string();
}

std::vector<std::string> claudeCliEnvironment(const FakeAnthropicApi& api) {
  return {"ANTHROPIC_BASE_URL=" + api.baseUrl(), "ANTHROPIC_API_KEY=test",
          "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "CLAUDE_CODE_MAX_RETRIES=0"};
}

RealCliCluster::RealCliCluster(std::vector<std::string> worker_args,
                               std::vector<std::string> broker_args)
    : api_(std::make_unique<FakeAnthropicApi>()),
      cluster_(std::make_unique<Cluster>(std::move(broker_args))) {
  worker_args_ = {"--cli", claudeCliPath()};
  for (const auto& entry : claudeCliEnvironment(*api_)) {
    worker_args_.push_back("--cli-env");
    worker_args_.push_back(entry);
  }
  worker_args_.insert(worker_args_.end(), worker_args.begin(), worker_args.end());
  cluster_->startWorker("w1", worker_args_);
  client_ = cluster_->client();
}

void RealCliCluster::addWorker(const std::string& id) { cluster_->startWorker(id, worker_args_); }

std::string RealCliCluster::workDir(const std::string& name) const {
  const std::string dir = cluster_->dir() + "/work-" + name;
  std::filesystem::create_directories(dir);
  return dir;
}

client::Reply<msg::Ack> RealCliCluster::start(const std::string& name, SessionOptions options) {
  if (options.cwd.empty()) options.cwd = workDir(name);
  return client_->start(name, options);
}

std::optional<MessagesRequest> RealCliCluster::requestFor(const std::string& prompt) const {
  const auto requests = api_->requests();
  for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
    if (it->lastPrompt() == prompt) return *it;
  }
  return std::nullopt;
}

std::string RealCliCluster::logs() const {
  return "\n--- fake API: " + std::to_string(api_->requestCount()) + " requests\n" +
         cluster_->logs();
}

}  // namespace ccmesh::test
