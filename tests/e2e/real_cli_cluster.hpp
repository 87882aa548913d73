#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fake_anthropic_api/fake_anthropic_api.hpp"
#include "harness/cluster.hpp"

namespace ccmesh::test {

// The real Claude Code CLI the e2e tests run: $CCMESH_CLAUDE_CLI if set, else the one
// scripts/install-claude.sh put under .tools/; "" when that file is not there.
std::string claudeCliPath();

// The environment every CLI of these tests gets through --cli-env: the fake API's address,
// a dummy key, no traffic besides the Messages API, and no retries of failed API calls (so
// an HTTP error reaches the turn at once).
std::vector<std::string> claudeCliEnvironment(const FakeAnthropicApi& api);

// One broker and one worker running the real Claude Code CLI against a FakeAnthropicApi.
// The worker has its own HOME and CLAUDE_CONFIG_DIR (so the CLI's transcripts stay in the
// test's directory); every session started through it works in a directory of its own.
class RealCliCluster {
 public:
  // `worker_args` are appended to the worker's command line; `broker_args` to the broker's.
  explicit RealCliCluster(std::vector<std::string> worker_args = {},
                          std::vector<std::string> broker_args = {});

  // Starts another worker running the real CLI, with its own HOME and CLAUDE_CONFIG_DIR.
  void addWorker(const std::string& id);

  FakeAnthropicApi& api() { return *api_; }
  Cluster& cluster() { return *cluster_; }
  client::Client& client() { return *client_; }

  // Starts a session whose cwd is workDir(name) unless the options name one.
  client::Reply<msg::Ack> start(const std::string& name, SessionOptions options = {});
  // The working directory start() gives `name` (created on first use).
  std::string workDir(const std::string& name) const;

  // The last request to the API whose last prompt is `prompt`, or nullopt.
  std::optional<MessagesRequest> requestFor(const std::string& prompt) const;

  // Logs of broker and worker plus the API's request count, for failure messages.
  std::string logs() const;

 private:
  std::unique_ptr<FakeAnthropicApi> api_;   // the Messages API the CLI talks to
  std::unique_ptr<Cluster> cluster_;        // broker + worker "w1"
  std::unique_ptr<client::Client> client_;  // a client of the broker
  std::vector<std::string> worker_args_;    // every worker's command line
};

}  // namespace ccmesh::test
