// What the broker does when workers die, come back, or hold stale copies, and when
// clients vanish or deadlines pass. In-process over inproc, with a ManualClock.
#include <gtest/gtest.h>

#include "broker_peer.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"

namespace ccmesh::broker::testing {
namespace {

using namespace std::chrono_literals;

class BrokerFailoverTest : public BrokerFixture {
 protected:
  // Starts the broker with session `s` placed on w1; w2 joins afterwards (empty).
  void startWithSessionOnW1() {
    startBroker();
    broker_->addSessions({{"s", {}}});
    w1_ = joinWorker("w1", 4);
    EXPECT_EQ(w1_->expect(*broker_, MessageType::kAssign).as<msg::Assign>().generation, 1u);
    w2_ = joinWorker("w2", 4);
    peer_ = client();
  }

  std::unique_ptr<BrokerPeer> w1_;    // first worker, hosts s
  std::unique_ptr<BrokerPeer> w2_;    // second worker
  std::unique_ptr<BrokerPeer> peer_;  // a client
};

TEST_F(BrokerFailoverTest, SilentWorkerIsDeadAndItsQueriesFollowTheirPromise) {
  startWithSessionOnW1();
  peer_->send(MessageType::kQuery, msg::Query{1, "s", "delivered one", true});
  peer_->send(MessageType::kQuery, msg::Query{2, "s", "queued one"});
  auto q1 = w1_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  auto q2 = w1_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  w1_->send(MessageType::kDelivered, msg::Delivered{q1.id});
  w1_->send(MessageType::kEvent, msg::Event{q1.id, 0, "delta", "half an ans"});
  EXPECT_EQ(peer_->expect(*broker_, MessageType::kEvent).as<msg::Event>().text, "half an ans");

  // w1 falls silent; w2 keeps talking.
  advanceKeepingAlive(workerExpiry(config_) + 500ms, {w2_.get()});

  auto lost = peer_->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(lost.id, 1u);
  EXPECT_EQ(lost.code, "worker_lost");
  EXPECT_EQ(lost.partial, "half an ans");
  auto assign = w2_->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(assign.session, "s");
  EXPECT_EQ(assign.generation, 2u);
  auto moved = w2_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_EQ(moved.id, q2.id) << "the undelivered prompt moves, never the delivered one";
  EXPECT_EQ(moved.prompt, "queued one");
  EXPECT_EQ(moved.generation, 2u);
  EXPECT_EQ(broker_->workers().size(), 1u);
  EXPECT_EQ(broker_->stats().workers_lost, 1u);
  EXPECT_EQ(broker_->sessions().find("s")->worker, "w2");
}

TEST_F(BrokerFailoverTest, ByeMovesSessionsAtOnce) {
  startWithSessionOnW1();
  w1_->send(MessageType::kBye, msg::Bye{"w1"});
  auto assign = w2_->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(assign.generation, 2u);
  EXPECT_EQ(broker_->workers().find("w1"), nullptr);
}

TEST_F(BrokerFailoverTest, SessionsWaitForRoomWhenNoWorkerIsLeft) {
  startBroker();
  broker_->addSessions({{"s", {}}});
  auto w1 = joinWorker("w1", 1);
  w1->expect(*broker_, MessageType::kAssign);
  w1->send(MessageType::kBye, msg::Bye{"w1"});
  w1->expectSilence(*broker_);
  auto peer = client();
  auto info = ask(*peer, MessageType::kInfo, msg::Info{1, "s"}).as<msg::InfoResult>();
  EXPECT_EQ(info.session.state, "pending");
  EXPECT_EQ(info.session.generation, 1u);
  auto w2 = joinWorker("w2", 1);
  EXPECT_EQ(w2->expect(*broker_, MessageType::kAssign).as<msg::Assign>().generation, 2u);
}

TEST_F(BrokerFailoverTest, HeartbeatsEchoTheWorkersSeqAndKeepItAlive) {
  startWithSessionOnW1();
  w1_->send(MessageType::kHeartbeat, msg::Heartbeat{41, 0});
  auto echo = w1_->next(*broker_, kPatience, true);
  ASSERT_TRUE(echo.has_value());
  ASSERT_EQ(echo->type, MessageType::kHeartbeat) << "acknowledged at once";
  EXPECT_EQ(echo->as<msg::Heartbeat>().ack, 41u);
  EXPECT_EQ(echo->as<msg::Heartbeat>().seq, 1u);
  clock_.advance(config_.heartbeat);
  auto heartbeat = w1_->next(*broker_, kPatience, true);
  ASSERT_TRUE(heartbeat.has_value());
  ASSERT_EQ(heartbeat->type, MessageType::kHeartbeat) << "and on the broker's own timer";
  EXPECT_EQ(heartbeat->as<msg::Heartbeat>().ack, 41u);
  EXPECT_EQ(heartbeat->as<msg::Heartbeat>().seq, 2u);
  advanceKeepingAlive(10s, {w1_.get(), w2_.get()});
  EXPECT_EQ(broker_->workers().size(), 2u);
  EXPECT_EQ(broker_->stats().workers_lost, 0u);
}

TEST_F(BrokerFailoverTest, FencesAStaleCopyAWorkerReportsWhenItComesBack) {
  startWithSessionOnW1();
  w1_->send(MessageType::kBye, msg::Bye{"w1"});
  EXPECT_EQ(w2_->expect(*broker_, MessageType::kAssign).as<msg::Assign>().generation, 2u);

  msg::SessionReport stale{{"s", 1, "idle", 99, "uuid", 0, 1, ""}, {}};
  w1_->send(MessageType::kReady, msg::Ready{"w1", 4, {}, {stale}, "0.1.0"});
  w1_->expect(*broker_, MessageType::kWelcome);
  auto fence = w1_->expect(*broker_, MessageType::kTerminate).as<msg::Terminate>();
  EXPECT_EQ(fence.id, 0u);
  EXPECT_EQ(fence.session, "s");
  EXPECT_EQ(fence.generation, 1u);
  EXPECT_EQ(broker_->sessions().find("s")->worker, "w2");
  EXPECT_EQ(broker_->sessions().find("s")->generation, 2u);

  // Its later updates about the old copy are dropped (and fenced again).
  const auto stale_before = broker_->stats().stale_messages;
  w1_->send(MessageType::kSessionUpdate, msg::SessionUpdate{"s", 1, "busy", 0, "", 0, 0, ""});
  w1_->expect(*broker_, MessageType::kTerminate);
  EXPECT_EQ(broker_->stats().stale_messages, stale_before + 1);
  EXPECT_EQ(broker_->sessions().find("s")->state, "starting");
}

TEST_F(BrokerFailoverTest, AdoptsSessionsWorkersReportAfterABrokerRestart) {
  startBroker();
  SessionOptions options;
  options.model = "opus";
  msg::SessionReport held{{"kept", 5, "idle", 77, "uuid-5", 1, 9, ""}, options};
  auto w1 = joinWorker("w1", 4, {held});
  w1->expectSilence(*broker_);  // nothing to assign: it already runs it
  auto peer = client();
  auto info = ask(*peer, MessageType::kInfo, msg::Info{1, "kept"}).as<msg::InfoResult>();
  EXPECT_EQ(info.session.worker, "w1");
  EXPECT_EQ(info.session.generation, 5u);
  EXPECT_EQ(info.session.state, "idle");
  EXPECT_EQ(info.session.turns, 9u);
  EXPECT_EQ(info.session.config.model, "opus");
  peer->send(MessageType::kQuery, msg::Query{2, "kept", "hi"});
  EXPECT_EQ(w1->expect(*broker_, MessageType::kQuery).as<msg::Query>().generation, 5u);
}

TEST_F(BrokerFailoverTest, WorkerReconnectingKeepsWhatItStillHolds) {
  startWithSessionOnW1();
  peer_->send(MessageType::kQuery, msg::Query{1, "s", "hi"});
  auto query = w1_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  msg::SessionReport held{{"s", 1, "busy", 1, "", 0, 0, ""}, {}};
  w1_->send(MessageType::kReady, msg::Ready{"w1", 4, {}, {held}, "0.1.0"});
  w1_->expect(*broker_, MessageType::kWelcome);
  w1_->expectSilence(*broker_);
  w1_->send(MessageType::kResult, answer(query.id, "s", "done"));
  EXPECT_EQ(peer_->expect(*broker_, MessageType::kResult).as<msg::QueryResult>().id, 1u);
}

TEST_F(BrokerFailoverTest, WorkerRestartedEmptyGetsItsSessionsPlacedAgain) {
  startWithSessionOnW1();
  w2_->send(MessageType::kBye, msg::Bye{"w2"});  // leave w1 the only choice
  w2_->expectSilence(*broker_);
  peer_->send(MessageType::kQuery, msg::Query{1, "s", "hi"});
  auto query = w1_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  // Same id, new process: ROUTER_HANDOVER gives it the routing id; it holds nothing.
  auto restarted = std::make_unique<BrokerPeer>(context_, config_.backend, "w1");
  w1_->close();
  restarted->send(MessageType::kReady, msg::Ready{"w1", 4, {}, {}, "0.1.0"});
  restarted->expect(*broker_, MessageType::kWelcome);
  // The old process may be frozen rather than dead (the broker saw no disconnect): its
  // copy of s runs until its lease lapses, so s waits that long before it is placed again.
  restarted->expectSilence(*broker_);
  advanceKeepingAlive(workerExpiry(config_), {restarted.get()});
  auto assign = restarted->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(assign.generation, 2u);
  auto again = restarted->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_EQ(again.id, query.id) << "never delivered, so sent again";
  EXPECT_EQ(again.generation, 2u);
}

TEST_F(BrokerFailoverTest, ForwardedQueryWithNoAnswerEndsWithTimeout) {
  config_.backstop_grace = 2s;
  startWithSessionOnW1();
  peer_->send(MessageType::kQuery, msg::Query{1, "s", "hi", false, 1000});
  auto query = w1_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_EQ(query.timeout_ms, 1000u);
  advanceKeepingAlive(2500ms, {w1_.get(), w2_.get()});
  peer_->expectSilence(*broker_);
  advanceKeepingAlive(1000ms, {w1_.get(), w2_.get()});
  auto timeout = peer_->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(timeout.id, 1u);
  EXPECT_EQ(timeout.code, "timeout");
  EXPECT_EQ(w1_->expect(*broker_, MessageType::kCancel).as<msg::Cancel>().id, query.id);
}

TEST_F(BrokerFailoverTest, VanishedClientHasItsQueryCancelledOnTheWorker) {
  startWithSessionOnW1();
  peer_->send(MessageType::kQuery, msg::Query{1, "s", "hi", true});
  auto query = w1_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  peer_->close();
  // The broker learns the client is gone when a send to it fails (EHOSTUNREACH).
  std::optional<Received> cancel;
  for (uint64_t seq = 0; seq < 50 && !cancel; ++seq) {
    w1_->send(MessageType::kEvent, msg::Event{query.id, seq, "delta", "x"});
    cancel = w1_->next(*broker_, Millis(20));
  }
  ASSERT_TRUE(cancel.has_value());
  ASSERT_EQ(cancel->type, MessageType::kCancel);
  EXPECT_EQ(cancel->as<msg::Cancel>().id, query.id);
  w1_->send(MessageType::kError, msg::ErrorReply{query.id, "cancelled", "", "", "s"});
  w1_->expectSilence(*broker_);
  EXPECT_EQ(broker_->requests().size(), 0u);
}

TEST_F(BrokerFailoverTest, QueriesOfAVanishedClientAreNotMovedToTheNewHost) {
  startWithSessionOnW1();
  peer_->send(MessageType::kQuery, msg::Query{1, "s", "running", true});
  peer_->send(MessageType::kQuery, msg::Query{2, "s", "queued"});
  auto running = w1_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  auto queued = w1_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  peer_->close();
  std::optional<Received> cancel;
  for (uint64_t seq = 0; seq < 50 && !cancel; ++seq) {
    w1_->send(MessageType::kEvent, msg::Event{running.id, seq, "delta", "x"});
    cancel = w1_->next(*broker_, Millis(20));
  }
  ASSERT_TRUE(cancel.has_value());
  EXPECT_EQ(w1_->expect(*broker_, MessageType::kCancel).as<msg::Cancel>().id, queued.id);
  w1_->send(MessageType::kBye, msg::Bye{"w1"});
  EXPECT_EQ(w2_->expect(*broker_, MessageType::kAssign).as<msg::Assign>().generation, 2u);
  w2_->expectSilence(*broker_);  // no query: nobody is waiting for it
  EXPECT_EQ(broker_->requests().size(), 0u);
}

TEST_F(BrokerFailoverTest, MessagesFromUnregisteredWorkersAreIgnoredAndAnsweredWithRejoin) {
  startBroker();
  BrokerPeer stranger(context_, config_.backend, "ghost");
  stranger.send(MessageType::kHeartbeat, msg::Heartbeat{1, 0});
  stranger.send(MessageType::kResult, answer(1, "s", "x"));
  stranger.expect(*broker_, MessageType::kRejoin);
  stranger.expect(*broker_, MessageType::kRejoin);
  stranger.send(MessageType::kError, msg::ErrorReply{0, "bad_request", "?", "", ""});
  stranger.expectSilence(*broker_);  // never answers an error: no ping-pong
  EXPECT_EQ(broker_->stats().stale_messages, 3u);
  stranger.sendFrames({"CCM1", "ready", "\xc1"});
  EXPECT_EQ(stranger.expect(*broker_, MessageType::kError).as<msg::ErrorReply>().code,
            "bad_request");
  EXPECT_EQ(broker_->workers().size(), 0u);
}

}  // namespace
}  // namespace ccmesh::broker::testing
