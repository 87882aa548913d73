#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "real_cli_cluster.hpp"

namespace ccmesh::test {

// Base of the e2e tests: a RealCliCluster per test, or a clear skip when the real CLI is not
// installed.
class RealCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (claudeCliPath().empty()) {
      GTEST_SKIP() << "the real Claude Code CLI is not installed: run scripts/install-claude.sh "
                      "(or point CCMESH_CLAUDE_CLI at a claude binary)";
    }
    mesh_ = std::make_unique<RealCliCluster>();
  }

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
