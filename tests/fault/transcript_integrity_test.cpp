// A conversation is never silently cut (docs/SESSIONS.md "What survives which failure"):
// transcript entries reach the broker acknowledged, a broker that restarted gets again what
// it missed, a copy with entries missing says so instead of resuming half, and a CLI that
// cannot resume from its worker's disk resumes from the broker's copy. Real broker and
// workers; the broker restarts, its data directory fills up, a worker cannot write its CLI's
// transcripts.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

using namespace std::chrono_literals;

class TranscriptIntegrityTest : public ::testing::Test {
 protected:
  // Waits until `name` is idle on `worker` with a CLI.
  bool idleOn(const std::string& name, const std::string& worker) {
    return waitFor([&] {
      auto info = client_->info(name);
      return info && info->worker == worker && info->state == "idle" && info->pid > 0;
    });
  }

  // Waits until the broker's copy of `name` is whole and holds `entries` entries.
  bool wholeCopy(const std::string& name, uint64_t entries) {
    return waitFor([&] {
      auto info = client_->info(name);
      return info && info->transcript_complete && info->transcript_entries == entries;
    });
  }

  // The transcript file the CLI of `name` keeps on `worker`'s disk.
  std::filesystem::path cliTranscriptOf(const std::string& worker, const std::string& name) {
    auto info = client_->info(name);
    if (!info) return {};
    std::error_code error;
    for (auto it = std::filesystem::recursive_directory_iterator(cluster_->homeOf(worker), error);
         !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
      if (it->path().filename() == info->session_id + ".jsonl") return it->path();
    }
    return {};
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<client::Client> client_;
};

// The first sequence: a turn runs while the broker restarts, and its entries reach
// the new broker before the worker has registered again.
TEST_F(TranscriptIntegrityTest, TurnThatRanWhileTheBrokerRestartedSurvivesAFailover) {
  TempDir data;
  // Long heartbeats: after the restart the worker hears of the new broker only through the
  // messages it sends itself.
  cluster_ = std::make_unique<Cluster>(
      std::vector<std::string>{"--data-dir", data.path(), "--heartbeat-ms", "10000"});
  cluster_->startWorker("w1");
  client_ = cluster_->client();
  ASSERT_TRUE(client_->start("talk").ok());
  ASSERT_TRUE(client_->query("talk", "warmup").ok());
  ASSERT_TRUE(client_->query("talk", "alpha").ok());
  // A slow turn, and a prompt queued behind it; both answers are lost with the broker.
  auto slow = std::async(std::launch::async, [this] {
    return cluster_->client(Millis(3000))->query("talk", "/sleep 800").ok();
  });
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info("talk");
    return info && info->state == "busy";
  })) << cluster_->logs();
  auto queued = std::async(std::launch::async, [this] {
    return cluster_->client(Millis(3000))->query("talk", "during-restart").ok();
  });
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info("talk");
    return info && info->queue_depth == 2;
  })) << cluster_->logs();
  // The worker is frozen while the broker restarts and the slow turn ends, so that the
  // first thing the new broker hears from it is that turn's transcript entries, sent before
  // the worker has learnt that it must register again.
  const auto local = cliTranscriptOf("w1", "talk");
  ASSERT_FALSE(local.empty());
  cluster_->worker("w1").signal(SIGSTOP);
  cluster_->restartBroker({"--data-dir", data.path(), "--heartbeat-ms", "100"});
  ASSERT_TRUE(waitFor([&] {
    std::ifstream in(local);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    return text.find("turn 3: /sleep 800") != std::string::npos;  // the slow turn's answer
  })) << cluster_->logs();
  cluster_->worker("w1").signal(SIGCONT);
  slow.wait();
  queued.wait();
  client_ = cluster_->client();
  // warmup, alpha, /sleep 800, during-restart: a user and an assistant entry each.
  ASSERT_TRUE(wholeCopy("talk", 8)) << cluster_->logs();
  ASSERT_TRUE(client_->query("talk", "gamma").ok());
  cluster_->startWorker("w2");
  cluster_->worker("w1").signal(SIGKILL);
  ASSERT_TRUE(idleOn("talk", "w2")) << cluster_->logs();
  auto history = client_->query("talk", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message << cluster_->logs();
  EXPECT_EQ(history->text, "warmup | alpha | /sleep 800 | during-restart | gamma");
  auto status = client_->status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->transcript_gaps, 0u);
}

// The second sequence: the data directory fills up. The broker keeps serving,
// acknowledges nothing it could not write, and after a restart the worker sends again what
// the files lack.
TEST_F(TranscriptIntegrityTest, FullDataDirectoryLosesNoEntryAcrossARestart) {
  TempDir data;
  const std::vector<std::string> args{"--data-dir", data.path(), "--heartbeat-ms", "100"};
  cluster_ = std::make_unique<Cluster>(args);
  // Files of the data directory may not grow past 3000 bytes (as a full disk).
  cluster_->restartBroker(args, {"/usr/bin/prlimit", "--fsize=3000", "--"});
  cluster_->startWorker("w1");
  client_ = cluster_->client();
  ASSERT_TRUE(client_->start("talk").ok());
  const int kTurns = 12;
  std::string expected;
  for (int i = 1; i <= kTurns; ++i) {
    const std::string prompt = "turn " + std::to_string(i);
    auto answer = client_->query("talk", prompt);
    ASSERT_TRUE(answer.ok()) << answer.error().message << cluster_->logs();
    expected += (expected.empty() ? "" : " | ") + prompt;
  }
  auto status = client_->status();
  ASSERT_TRUE(status.ok());
  ASSERT_GT(status->transcript_write_errors, 0u) << "the limit was never reached";
  cluster_->restartBroker(args);
  client_ = cluster_->client();
  ASSERT_TRUE(wholeCopy("talk", 2 * kTurns)) << cluster_->logs();
  cluster_->startWorker("w2");
  cluster_->worker("w1").signal(SIGKILL);
  ASSERT_TRUE(idleOn("talk", "w2")) << cluster_->logs();
  auto history = client_->query("talk", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message << cluster_->logs();
  EXPECT_EQ(history->text, expected);
}

// When nothing can fill the gap (the worker forgot what the broker never stored, and its
// CLIs could not write their own transcripts), the moved session says its conversation was
// cut, until the client accepts the cut.
TEST_F(TranscriptIntegrityTest, CopyWithEntriesMissingIsNeverResumedSilently) {
  TempDir data;
  const std::vector<std::string> args{"--data-dir", data.path(), "--heartbeat-ms", "100"};
  cluster_ = std::make_unique<Cluster>(args);
  cluster_->restartBroker(args, {"/usr/bin/prlimit", "--fsize=1500", "--"});
  // A worker that keeps nothing for a resend, whose CLIs' config directory lies under a
  // regular file (nothing can be written there, so it has no copy on its disk either).
  const std::string blocked = cluster_->dir() + "/not-a-directory";
  std::ofstream(blocked) << "x";
  cluster_->startWorker("w1", {"--transcript-retain-bytes", "1", "--cli-env",
                               "CLAUDE_CONFIG_DIR=" + blocked + "/.claude"});
  client_ = cluster_->client();
  ASSERT_TRUE(client_->start("talk").ok());
  for (int i = 1; i <= 8; ++i) {
    ASSERT_TRUE(client_->query("talk", "turn " + std::to_string(i)).ok()) << cluster_->logs();
  }
  cluster_->restartBroker(args);
  client_ = cluster_->client();
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info("talk");
    return info && info->worker == "w1" && !info->transcript_complete;
  })) << cluster_->logs();
  cluster_->startWorker("w2");
  cluster_->worker("w1").signal(SIGKILL);
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info("talk");
    return info && info->worker == "w2" && !info->cut.empty();
  })) << cluster_->logs();
  auto refused = client_->query("talk", "/history");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConversationIncomplete);
  EXPECT_NE(refused.error().message.find("was cut"), std::string::npos) << refused.error().message;
  // The client takes what is left as the conversation.
  auto accepted = client_->restart("talk", false, true);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  ASSERT_TRUE(idleOn("talk", "w2")) << cluster_->logs();
  auto history = client_->query("talk", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message << cluster_->logs();
  EXPECT_TRUE(history->text.starts_with("turn 1 | ")) << history->text;
  EXPECT_EQ(history->text.find("turn 8"), std::string::npos) << history->text;
  auto info = client_->info("talk");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->cut.empty());
}

// The default deployment: a broker without a data directory restarts. The workers send it
// what it lacks, from their CLIs' transcripts on disk, and a later failover resumes whole.
TEST_F(TranscriptIntegrityTest, BrokerWithoutDataDirGetsConversationsBackFromTheWorkers) {
  const std::vector<std::string> args{"--heartbeat-ms", "100"};
  cluster_ = std::make_unique<Cluster>(args);
  cluster_->startWorker("w1");
  client_ = cluster_->client();
  ASSERT_TRUE(client_->start("talk").ok());
  for (const char* prompt : {"one", "two", "three"}) {
    ASSERT_TRUE(client_->query("talk", prompt).ok());
  }
  cluster_->restartBroker(args);
  client_ = cluster_->client();
  ASSERT_TRUE(wholeCopy("talk", 6)) << cluster_->logs();
  cluster_->startWorker("w2");
  cluster_->worker("w1").signal(SIGKILL);
  ASSERT_TRUE(idleOn("talk", "w2")) << cluster_->logs();
  auto history = client_->query("talk", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message << cluster_->logs();
  EXPECT_EQ(history->text, "one | two | three");
}

// A CLI whose transcript on its worker's disk was cut short (a full disk there) resumes
// from the broker's copy after a crash, not from what its disk kept.
TEST_F(TranscriptIntegrityTest, CrashedCliWhoseLocalTranscriptIsShortResumesFromTheBroker) {
  cluster_ = std::make_unique<Cluster>();
  cluster_->startWorker("w1");
  client_ = cluster_->client();
  ASSERT_TRUE(client_->start("talk").ok());
  for (const char* prompt : {"one", "two", "three"}) {
    ASSERT_TRUE(client_->query("talk", prompt).ok());
  }
  ASSERT_TRUE(wholeCopy("talk", 6)) << cluster_->logs();
  const auto local = cliTranscriptOf("w1", "talk");
  ASSERT_FALSE(local.empty());
  std::filesystem::resize_file(local, 10);  // what a full disk may leave
  auto crashed = client_->query("talk", "/crash");
  ASSERT_FALSE(crashed.ok());
  ASSERT_TRUE(idleOn("talk", "w1")) << cluster_->logs();
  auto history = client_->query("talk", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message << cluster_->logs();
  // The /crash prompt's entry reached the CLI's disk and the broker before it died.
  EXPECT_TRUE(history->text.starts_with("one | two | three")) << history->text;
}

// The third sequence: a worker whose CLIs cannot write their transcripts. A crash
// must not start the conversation empty as if nothing were lost.
TEST_F(TranscriptIntegrityTest, WorkerThatCannotWriteTranscriptsNeverResumesEmpty) {
  cluster_ = std::make_unique<Cluster>();
  // Its CLIs' config directory lies under a regular file: nothing can be written there.
  const std::string blocked = cluster_->dir() + "/not-a-directory";
  std::ofstream(blocked) << "x";
  cluster_->startWorker("w1", {"--cli-env", "CLAUDE_CONFIG_DIR=" + blocked + "/.claude"});
  client_ = cluster_->client();
  ASSERT_TRUE(client_->start("talk").ok());
  ASSERT_TRUE(client_->query("talk", "one").ok()) << cluster_->logs();
  ASSERT_TRUE(client_->query("talk", "two").ok()) << cluster_->logs();
  ASSERT_TRUE(wholeCopy("talk", 4)) << cluster_->logs();
  ASSERT_FALSE(client_->query("talk", "/crash").ok());
  // The broker's copy is whole but cannot be written where the CLI reads it: the session
  // fails, saying why, rather than answer from an empty conversation.
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info("talk");
    return info && info->state == "failed";
  })) << cluster_->logs();
  auto info = client_->info("talk");
  ASSERT_TRUE(info.ok());
  EXPECT_NE(info->last_error.find("cannot write the transcript"), std::string::npos)
      << info->last_error;
  auto refused = client_->query("talk", "three");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kSessionFailed);
}

// Without mirroring, no copy exists anywhere: the conversation starts afresh, and says so.
TEST_F(TranscriptIntegrityTest, ConversationLostWithoutACopySaysItWasCut) {
  cluster_ = std::make_unique<Cluster>();
  const std::string blocked = cluster_->dir() + "/not-a-directory";
  std::ofstream(blocked) << "x";
  cluster_->startWorker("w1", {"--transcript-mirror", "false", "--cli-env",
                               "CLAUDE_CONFIG_DIR=" + blocked + "/.claude"});
  client_ = cluster_->client();
  ASSERT_TRUE(client_->start("talk").ok());
  ASSERT_TRUE(client_->query("talk", "one").ok()) << cluster_->logs();
  ASSERT_FALSE(client_->query("talk", "/crash").ok());
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info("talk");
    return info && !info->cut.empty();
  })) << cluster_->logs();
  auto refused = client_->query("talk", "two");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConversationIncomplete);
  ASSERT_TRUE(client_->restart("talk").ok());  // afresh, which drops the cut
  ASSERT_TRUE(idleOn("talk", "w1")) << cluster_->logs();
  auto history = client_->query("talk", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message << cluster_->logs();
  EXPECT_EQ(history->text, "(none)") << "a new conversation";
}

}  // namespace
}  // namespace ccmesh::test
