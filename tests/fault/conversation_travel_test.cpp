// Conversations follow their names (docs/SESSIONS.md "What survives which failure"): real
// broker and workers, each worker with its own HOME and CLAUDE_CONFIG_DIR, so a transcript
// can only reach the new worker through the broker.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

using namespace std::chrono_literals;

class ConversationTravelTest : public ::testing::Test {
 protected:
  // Starts `name` (on the only worker so far, `first`), then a second worker, and runs
  // three turns.
  void startWithThreeTurns(const std::string& first, const std::string& second,
                           const std::string& name = "talk", SessionOptions options = {}) {
    cluster_->startWorker(first);
    client_ = cluster_->client();
    auto ack = client_->start(name, options);
    ASSERT_TRUE(ack.ok()) << ack.error().message;
    ASSERT_EQ(ack->worker, first);
    cluster_->startWorker(second);
    for (const char* prompt : {"first", "second", "third"}) {
      auto answer = client_->query(name, prompt);
      ASSERT_TRUE(answer.ok()) << answer.error().message << cluster_->logs();
    }
    // A turn's entries reach the broker before its answer.
    auto info = client_->info(name);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->transcript_entries, 6u);
  }

  // Waits until `name` is idle on `worker` with a CLI.
  bool idleOn(const std::string& name, const std::string& worker) {
    return waitFor([&] {
      auto info = client_->info(name);
      return info && info->worker == worker && info->state == "idle" && info->pid > 0;
    });
  }

  // Files under a worker's CLAUDE_CONFIG_DIR/projects.
  std::size_t transcriptFilesOf(const std::string& worker) const {
    std::size_t count = 0;
    std::error_code error;
    const auto projects = std::filesystem::path(cluster_->homeOf(worker)) / ".claude/projects";
    for (auto it = std::filesystem::recursive_directory_iterator(projects, error);
         !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
      if (it->path().extension() == ".jsonl") ++count;
    }
    return count;
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(ConversationTravelTest, KilledWorkersSessionContinuesItsConversationOnTheNewWorker) {
  cluster_ = std::make_unique<Cluster>(std::vector<std::string>{"--heartbeat-ms", "100"});
  startWithThreeTurns("w1", "w2");
  ASSERT_EQ(transcriptFilesOf("w2"), 0u);
  cluster_->worker("w1").signal(SIGKILL);
  ASSERT_TRUE(idleOn("talk", "w2")) << cluster_->logs();
  auto history = client_->query("talk", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message << cluster_->logs();
  EXPECT_EQ(history->text, "first | second | third");
  EXPECT_EQ(history->worker, "w2");
  EXPECT_EQ(transcriptFilesOf("w2"), 1u);
}

TEST_F(ConversationTravelTest, MoveContinuesTheConversationWithoutAFailure) {
  cluster_ = std::make_unique<Cluster>();
  startWithThreeTurns("w1", "w2");
  auto before = client_->info("talk");
  ASSERT_TRUE(before.ok());
  auto moved = client_->move("talk", "w2");
  ASSERT_TRUE(moved.ok()) << moved.error().message << cluster_->logs();
  EXPECT_EQ(moved->worker, "w2");
  EXPECT_EQ(moved->generation, before->generation + 1);
  auto history = client_->query("talk", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message << cluster_->logs();
  EXPECT_EQ(history->text, "first | second | third");
  EXPECT_EQ(history->session_id, before->session_id) << "the same conversation goes on";
  auto status = client_->status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->workers_lost, 0u);
  EXPECT_EQ(status->workers.size(), 2u);
  // The moved copy's own turns are mirrored too: a second move keeps them.
  ASSERT_TRUE(client_->query("talk", "fourth").ok());
  ASSERT_TRUE(client_->move("talk", "w1").ok());
  auto again = client_->query("talk", "/history");
  ASSERT_TRUE(again.ok()) << again.error().message << cluster_->logs();
  EXPECT_EQ(again->text, "first | second | third | /history | fourth");
}

TEST_F(ConversationTravelTest, MovedSessionWhoseCwdIsMissingThereIsHeldFailed) {
  cluster_ = std::make_unique<Cluster>();
  const std::string cwd = cluster_->dir() + "/project";
  std::filesystem::create_directories(cwd);
  SessionOptions options;
  options.cwd = cwd;
  startWithThreeTurns("w1", "w2", "talk", options);
  std::filesystem::remove_all(cwd);  // stands for a directory only w1's machine has
  auto moved = client_->move("talk", "w2");
  ASSERT_TRUE(moved.ok()) << moved.error().message << cluster_->logs();
  EXPECT_EQ(moved->state, "failed");
  auto info = client_->info("talk");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->worker, "w2");
  EXPECT_EQ(info->state, "failed");
  EXPECT_NE(info->last_error.find(cwd + " does not exist on worker w2"), std::string::npos)
      << info->last_error;
  EXPECT_EQ(info->pid, 0);
  auto query = client_->query("talk", "hello");
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error().code, ErrorCode::kSessionFailed);
}

TEST_F(ConversationTravelTest, BrokerRestartWithDataDirKeepsTranscripts) {
  TempDir data;
  cluster_ = std::make_unique<Cluster>(std::vector<std::string>{"--data-dir", data.path()});
  startWithThreeTurns("w1", "w2");
  cluster_->restartBroker();
  auto fresh = cluster_->client();
  std::optional<msg::TranscriptResult> kept;
  ASSERT_TRUE(waitFor([&] {
    auto reply = fresh->transcript("talk");
    if (reply) kept = *reply;
    return reply.ok();
  })) << cluster_->logs();
  EXPECT_EQ(kept->entries, 6u);
  EXPECT_NE(kept->jsonl.find("\"third\""), std::string::npos);
  // The worker reconnects with the session; its next turns add to the kept transcript.
  client_ = std::move(fresh);
  ASSERT_TRUE(idleOn("talk", "w1")) << cluster_->logs();
  ASSERT_TRUE(client_->query("talk", "fourth").ok());
  auto info = client_->info("talk");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->transcript_entries, 8u);
}

TEST_F(ConversationTravelTest, TranscriptOverThePerSessionBoundKeepsTheNewestTurns) {
  cluster_ = std::make_unique<Cluster>(std::vector<std::string>{"--transcript-max-bytes", "2048"});
  startWithThreeTurns("w1", "w2");
  for (int i = 4; i <= 12; ++i) {
    ASSERT_TRUE(client_->query("talk", "prompt " + std::to_string(i)).ok());
  }
  auto kept = client_->transcript("talk");
  ASSERT_TRUE(kept.ok());
  EXPECT_LE(kept->bytes, 2048u);
  EXPECT_GT(kept->dropped_entries, 0u);
  EXPECT_NE(kept->jsonl.find("\"prompt 12\""), std::string::npos);
  EXPECT_EQ(kept->jsonl.find("\"first\""), std::string::npos);
  auto status = client_->status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->transcript_dropped_entries, kept->dropped_entries);

  // A move resumes the conversation from the entries kept, the newest turns, but as a cut
  // conversation: it says so until the client accepts the cut.
  ASSERT_TRUE(client_->move("talk", "w2").ok()) << cluster_->logs();
  auto refused = client_->query("talk", "/history");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConversationIncomplete);
  EXPECT_NE(refused.error().message.find("--transcript-max-bytes"), std::string::npos)
      << refused.error().message;
  ASSERT_TRUE(client_->restart("talk", false, true).ok()) << cluster_->logs();
  auto history = client_->query("talk", "/history");
  ASSERT_TRUE(history.ok()) << history.error().message << cluster_->logs();
  EXPECT_TRUE(history->text.ends_with("prompt 11 | prompt 12")) << history->text;
  EXPECT_EQ(history->text.find("first"), std::string::npos) << history->text;
}

TEST_F(ConversationTravelTest, GarbageMirrorLinesCrashNeitherWorkerNorBroker) {
  cluster_ = std::make_unique<Cluster>();
  cluster_->startWorker("w1");
  client_ = cluster_->client();
  ASSERT_TRUE(client_->start("talk").ok());
  auto garbage = client_->query("talk", "/mirror-garbage");
  ASSERT_TRUE(garbage.ok()) << garbage.error().message << cluster_->logs();
  EXPECT_EQ(garbage->text, "turn 1: /mirror-garbage");
  ASSERT_TRUE(client_->query("talk", "after").ok());
  EXPECT_TRUE(cluster_->broker().running());
  EXPECT_TRUE(cluster_->worker("w1").running());
  auto kept = client_->transcript("talk");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->entries, 4u) << kept->jsonl;
  auto status = client_->status();
  ASSERT_TRUE(status.ok());
  // Entries not an array (1), four entries that are not objects, one of 5 MiB.
  EXPECT_EQ(status->transcript_rejected, 6u);
  auto info = client_->info("talk");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->restarts, 0u);
}

}  // namespace
}  // namespace ccmesh::test
