#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "real_cli_cluster.hpp"

namespace ccmesh::test {

// Base of the e2e tests: a RealCliCluster per test. When the real CLI is not installed they
// skip, saying why, unless CCMESH_REQUIRE_CLAUDE=1 (scripts/test.sh sets it when it installed
// the CLI): then a missing CLI is a failure, so a broken install cannot pass as skipped.
class RealCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (claudeCliPath().empty()) {
      const char* required = std::getenv("CCMESH_REQUIRE_CLAUDE");
      const char* configured = std::getenv("CCMESH_CLAUDE_CLI");
      const std::string where =
          configured != nullptr && *configured != '\0' ? configured : CCMESH_CLAUDE_CLI;
      if (required != nullptr && std::string_view(required) == "1") {
        FAIL() << "CCMESH_REQUIRE_CLAUDE=1 and no Claude Code CLI is executable at " << where
               << ": run scripts/install-claude.sh (or point CCMESH_CLAUDE_CLI at a claude "
                  "binary)";
      }
      GTEST_SKIP() << "the real Claude Code CLI is not installed at " << where
                   << ": run scripts/install-claude.sh (or point CCMESH_CLAUDE_CLI at a claude "
                      "binary)";
    }
    mesh_ = std::make_unique<RealCliCluster>(workerArgs(), brokerArgs());
  }

  // Extra arguments of the worker (e.g. what it allows sessions).
  virtual std::vector<std::string> workerArgs() const { return {}; }
  // Extra arguments of the broker (e.g. a shorter heartbeat, for failover).
  virtual std::vector<std::string> brokerArgs() const { return {}; }

  // Starts `name` (cwd: its own directory) and fails the test if that does not work.
  void startSession(const std::string& name, SessionOptions options = {}) {
    auto ack = mesh_->start(name, std::move(options));
    ASSERT_TRUE(ack.ok()) << ack.error().message << mesh_->logs();
  }

  FakeAnthropicApi& api() { return mesh_->api(); }
  client::Client& client() { return mesh_->client(); }

  std::unique_ptr<RealCliCluster> mesh_;  // broker, worker with the real CLI, fake API
};

}  // namespace ccmesh::test
