// Queries through real broker, worker and mock CLI processes on loopback.
#include <gtest/gtest.h>

#include <set>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<Cluster>();
    cluster_->startWorker("w1");
    cluster_->startWorker("w2");
    client_ = cluster_->client();
  }

  void startSession(const std::string& name, SessionOptions options = {}) {
    auto ack = client_->start(name, options);
    ASSERT_TRUE(ack.ok()) << ack.error().message << cluster_->logs();
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(QueryTest, AnswersAPrompt) {
  startSession("s");
  auto reply = client_->query("s", "hello");
  ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
  EXPECT_EQ(reply->text, "turn 1: hello");
  EXPECT_EQ(reply->session, "s");
  EXPECT_FALSE(reply->session_id.empty());
  EXPECT_FALSE(reply->worker.empty());
}

TEST_F(QueryTest, StreamsDeltasThatJoinToTheAnswer) {
  startSession("s");
  client::QueryOptions options;
  options.stream = true;
  std::string joined;
  uint64_t expected_seq = 0;
  size_t events = 0;
  auto reply = client_->query("s", "/sleep 200", options, [&](const msg::Event& event) {
    EXPECT_EQ(event.seq, expected_seq++);
    EXPECT_EQ(event.kind, "delta");
    joined += event.text;
    ++events;
  });
  ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
  EXPECT_EQ(reply->text, "turn 1: /sleep 200");
  EXPECT_EQ(joined, reply->text);
  // Ten deltas from the CLI; the worker merges those that arrive together.
  EXPECT_GE(events, 1u);
  EXPECT_LE(events, 10u);
}

TEST_F(QueryTest, KeepsHistoryAcrossTurns) {
  startSession("s");
  ASSERT_TRUE(client_->query("s", "first").ok());
  auto second = client_->query("s", "second");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->text, "turn 2: second");
  auto history = client_->query("s", "/history");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->text, "first | second");
}

TEST_F(QueryTest, SystemPromptReachesTheCli) {
  SessionOptions options;
  options.system_prompt = "You review code for bugs";
  startSession("reviewer", options);
  auto reply = client_->query("reviewer", "/system");
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->text, "You review code for bugs");
}

TEST_F(QueryTest, UnknownSessionIsNotFound) {
  auto reply = client_->query("nobody", "hello");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, ErrorCode::kNotFound);
}

TEST_F(QueryTest, OversizedPromptIsABadRequest) {
  startSession("s");
  auto reply = client_->query("s", std::string(2u << 20, 'x'));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, ErrorCode::kBadRequest);
  EXPECT_TRUE(client_->query("s", "still fine").ok());
}

// One prompt hangs, sixteen wait behind it, the eighteenth is refused at once; once the
// hanging one is cancelled the sixteen finish in the order they were sent.
TEST_F(QueryTest, RunsPromptsInArrivalOrderAndRefusesWhenTheQueueIsFull) {
  startSession("s");
  uint64_t hanging = client_->sendQuery("s", "/hang");
  std::vector<uint64_t> queued;
  for (int i = 0; i < 16; ++i) queued.push_back(client_->sendQuery("s", "p" + std::to_string(i)));
  ASSERT_TRUE(waitFor([&] {
    auto info = client_->info("s");
    return info && info->state == "busy" && info->queue_depth == 17;
  })) << cluster_->logs();

  uint64_t extra = client_->sendQuery("s", "one too many");
  auto refused = client_->receive(kEventDeadline);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->id, extra);
  EXPECT_EQ(refused->type, MessageType::kError);
  EXPECT_EQ(refused->error.code, ErrorCode::kBusy);

  client_->cancel(hanging);
  auto cancelled = client_->receive(kEventDeadline);
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->id, hanging);
  EXPECT_EQ(cancelled->error.code, ErrorCode::kCancelled);

  for (int i = 0; i < 16; ++i) {
    auto done = client_->receive(kEventDeadline);
    ASSERT_TRUE(done) << "reply " << i << " missing" << cluster_->logs();
    ASSERT_EQ(done->type, MessageType::kResult) << done->error.message;
    EXPECT_EQ(done->id, queued[i]);
    // The hanging prompt was turn 1, so the i-th queued prompt is turn i + 2.
    EXPECT_EQ(done->result.text, "turn " + std::to_string(i + 2) + ": p" + std::to_string(i));
  }
}

TEST_F(QueryTest, SpreadsSessionsOverBothWorkers) {
  std::set<std::string> workers;
  for (int i = 0; i < 6; ++i) {
    auto ack = client_->start("s" + std::to_string(i));
    ASSERT_TRUE(ack.ok());
    workers.insert(ack->worker);
  }
  EXPECT_EQ(workers, (std::set<std::string>{"w1", "w2"}));
  for (int i = 0; i < 6; ++i) {
    auto reply = client_->query("s" + std::to_string(i), "hi");
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply->text, "turn 1: hi");
  }
}

// A cluster with no worker yet: the session is registered, the query waits in the broker and
// is answered once a worker joins.
TEST(QueryBeforeWorkers, IsAnsweredOnceAWorkerConnects) {
  Cluster cluster;
  auto client = cluster.client();
  auto ack = client->start("early");
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  EXPECT_EQ(ack->state, "pending");
  uint64_t id = client->sendQuery("early", "are you there");
  ASSERT_TRUE(waitFor([&] {
    auto info = client->info("early");
    return info && info->queue_depth == 1;
  }));
  cluster.spawnWorker("late");
  auto reply = client->receive(kEventDeadline);
  ASSERT_TRUE(reply) << cluster.logs();
  EXPECT_EQ(reply->id, id);
  ASSERT_EQ(reply->type, MessageType::kResult) << reply->error.message << cluster.logs();
  EXPECT_EQ(reply->result.text, "turn 1: are you there");
  EXPECT_EQ(reply->result.worker, "late");
}

}  // namespace
}  // namespace ccmesh::test
