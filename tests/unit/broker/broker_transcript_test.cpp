// Transcripts in the broker: which mirrored entries it keeps (fencing, malformed ones), and
// how the conversation travels with the name (failover, `move`). In-process over inproc,
// with a ManualClock.
#include <gtest/gtest.h>

#include "broker_peer.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"

namespace ccmesh::broker::testing {
namespace {

using namespace std::chrono_literals;

class BrokerTranscriptTest : public BrokerFixture {
 protected:
  BrokerTranscriptTest() { config_.heartbeat = 100ms; }

  // Session "s" from the sessions file, placed on a new worker w1; returns w1.
  std::unique_ptr<BrokerPeer> placeOnW1() {
    broker_->addSessions({{"s", {}}});
    auto w1 = joinWorker("w1", 1);
    assign_ = w1->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
    return w1;
  }

  static msg::TranscriptAppend batch(uint64_t generation, std::vector<std::string> entries,
                                     uint64_t dropped = 0) {
    return msg::TranscriptAppend{"s", generation, "conv-1", std::move(entries), dropped};
  }

  msg::TranscriptResult transcript(BrokerPeer& client) {
    auto reply = ask(client, MessageType::kTranscript, msg::TranscriptRequest{++ids_, "s"});
    EXPECT_EQ(reply.type, MessageType::kResult);
    return reply.as<msg::TranscriptResult>();
  }

  msg::Assign assign_;  // what w1 got
  uint64_t ids_ = 0;    // client request ids
};

TEST_F(BrokerTranscriptTest, KeepsWellFormedEntriesOfTheCurrentPlacementOnly) {
  startBroker();
  auto w1 = placeOnW1();
  const uint64_t generation = assign_.generation;
  w1->send(MessageType::kTranscriptAppend, batch(generation, {R"({"n":1})"}));
  w1->send(MessageType::kTranscriptAppend, batch(generation + 1, {R"({"stale":1})"}));
  w1->send(MessageType::kTranscriptAppend,
           batch(generation, {"not json", "{\"two\":1}\n{\"lines\":2}", R"({"n":2})"}, 3));
  msg::TranscriptAppend odd_id = batch(generation, {R"({"n":3})"});
  odd_id.session_id = "../../etc";
  w1->send(MessageType::kTranscriptAppend, odd_id);

  auto client = this->client();
  auto result = transcript(*client);
  EXPECT_EQ(result.session_id, "conv-1");
  // A batch with a malformed entry is refused whole: dropping only that entry would shift
  // every later position.
  EXPECT_EQ(result.jsonl, "{\"n\":1}\n");
  EXPECT_EQ(result.entries, 1u);
  auto status = ask(*client, MessageType::kStatus, msg::Plain{++ids_}).as<msg::StatusResult>();
  EXPECT_EQ(status.transcript_rejected, 7u)
      << "a batch of 3 with malformed entries + 3 the worker dropped + 1 odd id";
  EXPECT_GE(status.stale_messages, 1u);
  auto info = ask(*client, MessageType::kInfo, msg::Info{++ids_, "s"}).as<msg::InfoResult>();
  EXPECT_EQ(info.session.transcript_entries, 1u);
  EXPECT_EQ(info.session.transcript_bytes, 8u);
  EXPECT_GT(info.session.transcript_last_ms, 0u);
}

TEST_F(BrokerTranscriptTest, FailoverSendsTheTranscriptWithTheAssign) {
  startBroker();
  auto w1 = placeOnW1();
  w1->send(MessageType::kTranscriptAppend,
           batch(assign_.generation, {R"({"type":"user"})", R"({"type":"assistant"})"}));
  auto w2 = joinWorker("w2", 1);
  advanceKeepingAlive(workerExpiry(config_) + 100ms, {w2.get()});
  auto moved = w2->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(moved.generation, assign_.generation + 1);
  EXPECT_EQ(moved.session_id, "conv-1");
  EXPECT_EQ(moved.transcript, "{\"type\":\"user\"}\n{\"type\":\"assistant\"}\n");
  EXPECT_EQ(moved.moved_from, "w1");
}

TEST_F(BrokerTranscriptTest, FailoverAfterARestartWithoutHistoryStartsAfresh) {
  startBroker();
  auto w1 = placeOnW1();
  w1->send(MessageType::kTranscriptAppend, batch(assign_.generation, {R"({"old":1})"}));
  msg::SessionUpdate restarted;  // `restart` without history: a new conversation, no entry yet
  restarted.session = "s";
  restarted.generation = assign_.generation;
  restarted.state = "idle";
  restarted.session_id = "conv-2";
  w1->send(MessageType::kSessionUpdate, restarted);
  auto w2 = joinWorker("w2", 1);
  advanceKeepingAlive(workerExpiry(config_) + 100ms, {w2.get()});
  auto moved = w2->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_TRUE(moved.transcript.empty());
  EXPECT_TRUE(moved.session_id.empty());
}

TEST_F(BrokerTranscriptTest, MoveStopsTheOldCopyFirstAndQueriesWaitForTheNewOne) {
  startBroker();
  auto w1 = placeOnW1();
  auto w2 = joinWorker("w2", 1);
  auto client = this->client();
  client->send(MessageType::kMove, msg::Move{1, "s", "w2"});
  auto stop = w1->expect(*broker_, MessageType::kTerminate).as<msg::Terminate>();
  EXPECT_EQ(stop.generation, assign_.generation);
  client->send(MessageType::kQuery, msg::Query{2, "s", "after the move"});

  // The old copy mirrors its last entries as it stops, says it stopped, then acks.
  w1->send(MessageType::kTranscriptAppend, batch(assign_.generation, {R"({"last":1})"}));
  msg::SessionUpdate stopped;
  stopped.session = "s";
  stopped.generation = assign_.generation;
  stopped.state = "stopped";
  w1->send(MessageType::kSessionUpdate, stopped);
  w1->send(MessageType::kResult, msg::Ack{stop.id, "s", "w1", assign_.generation, "stopped"});
  auto stored = w1->expect(*broker_, MessageType::kTranscriptAck).as<msg::TranscriptAck>();
  EXPECT_EQ(stored.upto, 1u);

  auto moved = w2->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(moved.generation, assign_.generation + 1);
  EXPECT_EQ(moved.transcript, "{\"last\":1}\n");
  EXPECT_EQ(moved.moved_from, "w1");
  auto query = w2->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_EQ(query.prompt, "after the move");
  EXPECT_EQ(query.generation, moved.generation);
  w1->expectSilence(*broker_);

  w2->send(MessageType::kResult, msg::Ack{moved.id, "s", "w2", moved.generation, "idle"});
  auto ack = client->expect(*broker_, MessageType::kResult).as<msg::Ack>();
  EXPECT_EQ(ack.id, 1u);
  EXPECT_EQ(ack.worker, "w2");
  EXPECT_EQ(ack.generation, moved.generation);
  EXPECT_EQ(broker_->stats().workers_lost, 0u);
}

TEST_F(BrokerTranscriptTest, EntriesAreAcknowledgedAndACopyWithAGapMovesCut) {
  startBroker();
  auto w1 = placeOnW1();
  auto first = batch(assign_.generation, {R"({"n":1})", R"({"n":2})"});
  first.first = 1;
  w1->send(MessageType::kTranscriptAppend, first);
  w1->send(MessageType::kTranscriptAppend, first);  // sent again: stored once
  // Acks of batches stored whole go with the answer to the worker's next heartbeat.
  w1->expectSilence(*broker_);
  w1->send(MessageType::kHeartbeat, msg::Heartbeat{1, 0});  // (the peer skips the heartbeat)
  EXPECT_EQ(w1->expect(*broker_, MessageType::kTranscriptAck).as<msg::TranscriptAck>().upto, 2u);
  auto after_gap = batch(assign_.generation, {R"({"n":4})"});
  after_gap.first = 4;  // entry 3 never came
  w1->send(MessageType::kTranscriptAppend, after_gap);
  EXPECT_EQ(w1->expect(*broker_, MessageType::kTranscriptAck).as<msg::TranscriptAck>().upto, 2u)
      << "nothing after a gap is stored, and the worker hears it at once";

  auto w2 = joinWorker("w2", 1);
  advanceKeepingAlive(workerExpiry(config_) + 100ms, {w2.get()});
  auto moved = w2->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(moved.transcript, "{\"n\":1}\n{\"n\":2}\n");
  EXPECT_NE(moved.cut.find("entries 1..2 of 4"), std::string::npos) << moved.cut;
  auto client = this->client();
  auto status = ask(*client, MessageType::kStatus, msg::Plain{++ids_}).as<msg::StatusResult>();
  EXPECT_EQ(status.transcript_duplicates, 2u);
  EXPECT_EQ(status.transcript_gaps, 1u);
}

TEST_F(BrokerTranscriptTest, AWorkerThatCannotResumeLocallyGetsTheBrokersCopy) {
  startBroker();
  auto w1 = placeOnW1();
  auto entries = batch(assign_.generation, {R"({"n":1})", R"({"n":2})"});
  entries.first = 1;
  w1->send(MessageType::kTranscriptAppend, entries);
  w1->send(MessageType::kTranscriptFetch,
           msg::TranscriptFetch{"s", assign_.generation, "conv-1", 2});
  auto seed = w1->expect(*broker_, MessageType::kTranscriptSeed).as<msg::TranscriptSeed>();
  EXPECT_EQ(seed.transcript, "{\"n\":1}\n{\"n\":2}\n");
  EXPECT_EQ(seed.entries, 2u);
  EXPECT_TRUE(seed.cut.empty()) << seed.cut;
  // The worker mirrored more than the broker holds: the seed says it is cut.
  w1->send(MessageType::kTranscriptFetch,
           msg::TranscriptFetch{"s", assign_.generation, "conv-1", 5});
  seed = w1->expect(*broker_, MessageType::kTranscriptSeed).as<msg::TranscriptSeed>();
  EXPECT_NE(seed.cut.find("of 5"), std::string::npos) << seed.cut;
}

TEST_F(BrokerTranscriptTest, MoveToAnUnknownWorkerIsRefused) {
  startBroker();
  auto w1 = placeOnW1();
  auto client = this->client();
  auto reply = ask(*client, MessageType::kMove, msg::Move{1, "s", "nowhere"});
  ASSERT_EQ(reply.type, MessageType::kError);
  EXPECT_EQ(reply.as<msg::ErrorReply>().code, "not_found");
  w1->expectSilence(*broker_);
}

TEST_F(BrokerTranscriptTest, TerminateForgetsTheTranscript) {
  startBroker();
  auto w1 = placeOnW1();
  w1->send(MessageType::kTranscriptAppend, batch(assign_.generation, {R"({"n":1})"}));
  w1->expect(*broker_, MessageType::kTranscriptAck);
  auto client = this->client();
  client->send(MessageType::kTerminate, msg::Terminate{1, "s"});
  auto stop = w1->expect(*broker_, MessageType::kTerminate).as<msg::Terminate>();
  w1->send(MessageType::kResult, msg::Ack{stop.id, "s", "w1", assign_.generation, "stopped"});
  client->expect(*broker_, MessageType::kResult);
  EXPECT_EQ(broker_->transcripts().peek("s"), nullptr);
  auto reply = ask(*client, MessageType::kTranscript, msg::TranscriptRequest{2, "s"});
  EXPECT_EQ(reply.type, MessageType::kError);
}

}  // namespace
}  // namespace ccmesh::broker::testing
