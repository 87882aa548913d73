#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/logging.hpp"
#include "ccmesh/worker/session.hpp"
#include "ccmesh/worker/session_context.hpp"

namespace ccmesh::worker {

// A fixture for tests that run sessions on the real mock CLI: a SessionContext that starts
// it under a fresh temporary HOME (one per test) and reads a manual clock. Skips when the
// build has no mock CLI.
class MockCliFixture : public ::testing::Test {
 protected:
  // `home_prefix` starts the name of each test's HOME directory.
  explicit MockCliFixture(std::string home_prefix) : home_prefix_(std::move(home_prefix)) {}

  void SetUp() override {
#ifndef CCMESH_MOCK_CLI
    GTEST_SKIP() << "ccmesh-mock-cli is not part of this build";
#else
    home_ = std::filesystem::path(::testing::TempDir()) /
            (home_prefix_ + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(home_);
    std::filesystem::create_directories(home_);
    context_.worker_id = "w-test";
    context_.cli = CliSettings{CCMESH_MOCK_CLI, {}, {"HOME=" + home_.string()}};
    context_.base_env = CliCommand::currentEnvironment();
    context_.base_env.erase("CLAUDE_CONFIG_DIR");
    context_.clock = &clock_;
    context_.log = componentLogger("worker-test");
    context_.log->set_level(spdlog::level::warn);
#endif
  }

  // A derived fixture ends its sessions before calling this: their CLIs write under HOME.
  void TearDown() override {
    if (!home_.empty()) std::filesystem::remove_all(home_);
  }

  std::filesystem::path home_;  // HOME of the mock CLI (its transcripts)
  ManualClock clock_;           // moved by hand for deadlines, backoff and idle timeouts
  SessionContext context_;      // settings shared by the sessions

 private:
  std::string home_prefix_;  // see the constructor
};

// Pumps `session`'s pipes (real time) until `done` holds; fails after 10 s, naming `what`
// it was waiting for.
inline void pumpSessionUntil(Session& session, const std::function<bool()>& done,
                             const std::string& what) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) {
      FAIL() << "timed out waiting for " << what << " (state " << sessionStateName(session.state())
             << ")";
    }
    std::vector<pollfd> fds;
    if (CliProcess* p = session.process()) {
      if (p->outputFd() >= 0) fds.push_back({p->outputFd(), POLLIN, 0});
      if (p->errorFd() >= 0) fds.push_back({p->errorFd(), POLLIN, 0});
      if (p->pendingInputFd() >= 0) fds.push_back({p->pendingInputFd(), POLLOUT, 0});
    }
    ::poll(fds.data(), fds.size(), 10);
    session.onInputWritable();
    session.onOutputReadable(1u << 20);
    session.onErrorsReadable(1u << 20);
    session.onChildExited();  // no SIGCHLD here: reaping is a cheap WNOHANG
    session.onTimer();
  }
}

}  // namespace ccmesh::worker
