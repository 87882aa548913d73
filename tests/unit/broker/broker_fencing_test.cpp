// Failure detection and fencing in the broker: when a silent worker's names may move, what
// acknowledges a worker's lease, labels a session requires, a worker that lost a copy, and
// a broker rebuilding its registry from what workers report after a restart.
// In-process over inproc, with a ManualClock.
#include <gtest/gtest.h>

#include "broker_peer.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"

namespace ccmesh::broker::testing {
namespace {

using namespace std::chrono_literals;

class BrokerFencingTest : public BrokerFixture {
 protected:
  BrokerFencingTest() {
    config_.heartbeat = 100ms;
    config_.liveness = 3;
  }

  // Connects a worker with a hand-made `ready` and returns it once welcomed.
  std::unique_ptr<BrokerPeer> join(const msg::Ready& ready) {
    auto worker = std::make_unique<BrokerPeer>(context_, config_.backend, ready.worker);
    worker->send(MessageType::kReady, ready);
    auto welcome = worker->expect(*broker_, MessageType::kWelcome).as<msg::Welcome>();
    EXPECT_EQ(welcome.ack, ready.seq) << "welcome acknowledges the ready it answers";
    return worker;
  }

  // A `ready` of a worker with labels.
  static msg::Ready ready(const std::string& id, std::map<std::string, std::string> labels = {},
                          std::vector<msg::SessionReport> sessions = {}, bool rejoining = false) {
    msg::Ready ready{id, 8, std::move(labels), std::move(sessions), "0.1.0"};
    ready.seq = 5;
    ready.rejoining = rejoining;
    return ready;
  }

  // What a worker reports holding.
  static msg::SessionReport held(const std::string& name, uint64_t generation, int64_t pid,
                                 SessionOptions options = {}) {
    return msg::SessionReport{{name, generation, "idle", pid, "uuid-" + name, 0, 1, ""}, options};
  }
};

TEST_F(BrokerFencingTest, SilentWorkerMovesOnlyOnceItsLeaseHasSurelyLapsed) {
  startBroker();
  broker_->addSessions({{"s", {}}});
  auto w1 = joinWorker("w1", 1);
  w1->expect(*broker_, MessageType::kAssign);
  auto w2 = joinWorker("w2", 1);
  ASSERT_EQ(workerExpiry(config_), 400ms) << "3 x 100 ms lease + one heartbeat of margin";

  // The lease (300 ms) has lapsed, but not yet the margin: the name stays.
  advanceKeepingAlive(350ms, {w2.get()});
  w2->expectSilence(*broker_);
  EXPECT_EQ(broker_->sessions().find("s")->worker, "w1");

  advanceKeepingAlive(100ms, {w2.get()});
  auto assign = w2->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(assign.session, "s");
  EXPECT_EQ(assign.generation, 2u);
  EXPECT_EQ(broker_->stats().workers_lost, 1u);
}

TEST_F(BrokerFencingTest, FenceMarginIsConfigurable) {
  config_.fence_margin = 250ms;
  EXPECT_EQ(workerExpiry(config_), 550ms);
}

TEST_F(BrokerFencingTest, AcknowledgesEveryWorkerHeartbeatAtOnce) {
  startBroker();
  auto w1 = join(ready("w1"));
  for (uint64_t seq : {6u, 7u, 8u}) {
    w1->send(MessageType::kHeartbeat, msg::Heartbeat{seq, 0});
    auto ack = w1->next(*broker_, kPatience, true);
    ASSERT_TRUE(ack.has_value());
    ASSERT_EQ(ack->type, MessageType::kHeartbeat);
    EXPECT_EQ(ack->as<msg::Heartbeat>().ack, seq);
  }
}

TEST_F(BrokerFencingTest, PlacementHonoursTheLabelsASessionRequires) {
  startBroker();
  auto plain = join(ready("plain"));
  auto gpu = join(ready("gpu", {{"gpu", "yes"}, {"zone", "a"}}));
  auto peer = client();
  SessionOptions needs_gpu;
  ASSERT_FALSE(needs_gpu.set("require", "gpu=yes,zone=a"));
  peer->send(MessageType::kStart, msg::Start{1, "trainer", needs_gpu});
  auto first = gpu->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  gpu->send(MessageType::kResult, msg::Ack{first.id, "trainer", "gpu", 1, "idle"});
  EXPECT_EQ(peer->expect(*broker_, MessageType::kResult).as<msg::Ack>().worker, "gpu");
  SessionOptions needs_tpu;
  ASSERT_FALSE(needs_tpu.set("require", "tpu=yes"));
  auto none = ask(*peer, MessageType::kStart, msg::Start{2, "orphan", needs_tpu});
  EXPECT_EQ(none.as<msg::Ack>().state, "pending") << "no worker has the label";
  plain->expectSilence(*broker_);

  // Its worker dies: the name waits for a worker with the label, never takes another.
  gpu->send(MessageType::kBye, msg::Bye{"gpu"});
  plain->expectSilence(*broker_);
  EXPECT_EQ(broker_->sessions().find("trainer")->state, "pending");
  auto gpu2 = join(ready("gpu2", {{"gpu", "yes"}, {"zone", "a"}}));
  auto assign = gpu2->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(assign.session, "trainer");
  EXPECT_EQ(assign.generation, 2u);
  EXPECT_EQ(assign.options.require.at("gpu"), "yes");
}

TEST_F(BrokerFencingTest, WorkerThatNoLongerHoldsItsPlacementLosesTheName) {
  startBroker();
  broker_->addSessions({{"s", {}}});
  auto w1 = joinWorker("w1", 4);
  w1->expect(*broker_, MessageType::kAssign);
  auto w2 = joinWorker("w2", 4);
  auto peer = client();
  peer->send(MessageType::kQuery, msg::Query{1, "s", "hello"});
  auto query = w1->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  // w1 fenced itself meanwhile: it does not know the session any more.
  w1->send(MessageType::kError, msg::ErrorReply{query.id, "not_found", "no session s", "", "s"});
  auto assign = w2->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(assign.generation, 2u);
  auto moved = w2->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_EQ(moved.id, query.id) << "never delivered, so it follows the session";
  peer->expectSilence(*broker_);
}

TEST_F(BrokerFencingTest, StoppedCopyNobodyAskedToStopMovesAtOnce) {
  startBroker();
  broker_->addSessions({{"s", {}}});
  auto w1 = joinWorker("w1", 4);
  w1->expect(*broker_, MessageType::kAssign);
  auto w2 = joinWorker("w2", 4);
  w1->send(MessageType::kSessionUpdate, msg::SessionUpdate{"s", 1, "stopped", 0, "", 0, 0, ""});
  EXPECT_EQ(w2->expect(*broker_, MessageType::kAssign).as<msg::Assign>().generation, 2u);
}

TEST_F(BrokerFencingTest, StatusCountsStaleMessagesAndLostWorkers) {
  startBroker();
  broker_->addSessions({{"s", {}}});
  auto w1 = joinWorker("w1", 4);
  w1->expect(*broker_, MessageType::kAssign);
  auto w2 = joinWorker("w2", 4);
  w1->send(MessageType::kBye, msg::Bye{"w1"});
  w2->expect(*broker_, MessageType::kAssign);
  // The old copy reappears: fenced, and its news dropped.
  w1 = join(ready("w1", {}, {held("s", 1, 77)}, true));
  EXPECT_EQ(w1->expect(*broker_, MessageType::kTerminate).as<msg::Terminate>().generation, 1u);
  w1->send(MessageType::kSessionUpdate, msg::SessionUpdate{"s", 1, "busy", 77, "", 0, 0, ""});
  w1->expect(*broker_, MessageType::kTerminate);
  auto peer = client();
  auto status = ask(*peer, MessageType::kStatus, msg::Plain{1}).as<msg::StatusResult>();
  EXPECT_EQ(status.stale_messages, 2u);
  EXPECT_EQ(status.workers_lost, 1u);
}

// A freshly started broker once crashed on a `ready` listing sessions it did not know.
TEST_F(BrokerFencingTest, RestartedBrokerRebuildsItsRegistryFromWhatWorkersReport) {
  startBroker();
  broker_->addSessions({{"from-file", {}}, {"also-from-file", {}}});
  SessionOptions dynamic;
  dynamic.model = "opus";
  ASSERT_FALSE(dynamic.set("require", "gpu=yes"));
  auto w1 = join(
      ready("w1", {{"gpu", "yes"}},
            {held("dyn", 3, 101, dynamic), held("from-file", 2, 102), held("dyn", 3, 101, dynamic)},
            true));
  // The same name at an older generation on another worker: that copy is stale.
  auto w2 = join(ready("w2", {}, {held("dyn", 2, 201), held("other", 1, 202)}, true));
  EXPECT_EQ(w2->expect(*broker_, MessageType::kTerminate).as<msg::Terminate>().session, "dyn");
  w1->expectSilence(*broker_);  // nothing to assign: it runs what it reported

  auto peer = client();
  auto list = ask(*peer, MessageType::kList, msg::Plain{1}).as<msg::ListResult>();
  ASSERT_EQ(list.sessions.size(), 4u);
  EXPECT_EQ(list.sessions[0].name, "also-from-file");
  EXPECT_EQ(list.sessions[0].state, "pending") << "held back while workers may report it";
  EXPECT_EQ(list.sessions[1].name, "dyn");
  EXPECT_EQ(list.sessions[1].worker, "w1");
  EXPECT_EQ(list.sessions[1].generation, 3u);
  EXPECT_EQ(list.sessions[1].pid, 101);
  EXPECT_EQ(list.sessions[1].config.model, "opus");
  EXPECT_EQ(list.sessions[1].config.require.at("gpu"), "yes");
  EXPECT_EQ(list.sessions[2].worker, "w1");
  EXPECT_EQ(list.sessions[3].worker, "w2");

  // Names nobody reported yet are unavailable, not unknown, and cannot be taken.
  auto unknown = ask(*peer, MessageType::kInfo, msg::Info{2, "later"}).as<msg::ErrorReply>();
  EXPECT_EQ(unknown.code, "unavailable");
  auto start = ask(*peer, MessageType::kStart, msg::Start{3, "later", {}}).as<msg::ErrorReply>();
  EXPECT_EQ(start.code, "unavailable");

  // A late worker still reports in time.
  auto w3 = join(ready("w3", {}, {held("later", 4, 301)}, true));
  auto info = ask(*peer, MessageType::kInfo, msg::Info{4, "later"}).as<msg::InfoResult>();
  EXPECT_EQ(info.session.worker, "w3");

  // One worker expiry after the start, the registry is complete.
  advanceKeepingAlive(workerExpiry(config_) + 50ms, {w1.get(), w2.get(), w3.get()});
  auto placed = w2->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(placed.session, "also-from-file");
  EXPECT_EQ(placed.generation, 1u);
  auto gone = ask(*peer, MessageType::kInfo, msg::Info{5, "never"}).as<msg::ErrorReply>();
  EXPECT_EQ(gone.code, "not_found");
}

TEST_F(BrokerFencingTest, FreshBrokerSurvivesEveryKindOfReportAboutNamesItDoesNotKnow) {
  startBroker();
  broker_->addSessions({{"file", {}}});
  auto peer = client();
  peer->send(MessageType::kQuery, msg::Query{1, "file", "waits for a worker"});
  peer->expectSilence(*broker_);
  // Odd reports: generation 0, a stopped copy, the same name twice at two generations,
  // an invalid name, a name with a query waiting for it.
  SessionOptions odd;
  odd.cwd = "/nonexistent";
  msg::SessionReport stopped = held("stopped-one", 2, 0);
  stopped.update.state = "stopped";
  auto w1 = join(ready("w1", {},
                       {held("zero", 0, 1), stopped, held("twice", 1, 2), held("twice", 4, 3, odd),
                        held("-bad", 1, 4), held("file", 7, 5)},
                       true));
  auto w2 = join(ready("w2", {}, {held("twice", 4, 6), held("zero", 0, 7)}, true));
  w2->expect(*broker_, MessageType::kTerminate);
  auto forwarded = w1->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_EQ(forwarded.session, "file");
  EXPECT_EQ(forwarded.generation, 7u);
  // The same worker again with nothing: everything it held moves or waits.
  w1->send(MessageType::kReady, ready("w1", {}, {}, true));
  w1->expect(*broker_, MessageType::kWelcome);
  auto list = ask(*peer, MessageType::kList, msg::Plain{2}).as<msg::ListResult>();
  for (const auto& info : list.sessions) EXPECT_NE(info.worker, "w1") << info.name;
  EXPECT_EQ(broker_->stats().malformed_messages, 1u) << "the invalid name";
}

TEST_F(BrokerFencingTest, ColdStartPlacesAtOnceWhenNoWorkerHasRunBefore) {
  startBroker();
  broker_->addSessions({{"a", {}}});
  auto w1 = join(ready("w1"));
  EXPECT_EQ(w1->expect(*broker_, MessageType::kAssign).as<msg::Assign>().session, "a");
  auto peer = client();
  peer->send(MessageType::kStart, msg::Start{1, "b", {}});
  EXPECT_EQ(w1->expect(*broker_, MessageType::kAssign).as<msg::Assign>().session, "b");
}

TEST_F(BrokerFencingTest, RequestIdsOfTwoIncarnationsNeverMeet) {
  startBroker();
  broker_->addSessions({{"s", {}}});
  auto w1 = joinWorker("w1", 4);
  w1->expect(*broker_, MessageType::kAssign);
  auto peer = client();
  peer->send(MessageType::kQuery, msg::Query{1, "s", "first"});
  const uint64_t old_id = w1->expect(*broker_, MessageType::kQuery).as<msg::Query>().id;
  peer.reset();
  w1.reset();
  broker_.reset();

  // The same broker started again (on fresh inproc names: the old ones are freed later).
  config_.frontend = "inproc://frontend-again";
  config_.backend = "inproc://backend-again";
  startBroker();
  auto w2 = join(ready("w1", {}, {held("s", 1, 9)}, true));
  auto peer2 = client();
  peer2->send(MessageType::kQuery, msg::Query{1, "s", "second"});
  const uint64_t new_id = w2->expect(*broker_, MessageType::kQuery).as<msg::Query>().id;
  EXPECT_GT(new_id, old_id);
  // The answer to the dead broker's request is stale here, never the new request's answer.
  w2->send(MessageType::kResult, answer(old_id, "s", "old answer"));
  peer2->expectSilence(*broker_);
  w2->send(MessageType::kResult, answer(new_id, "s", "new answer"));
  EXPECT_EQ(peer2->expect(*broker_, MessageType::kResult).as<msg::QueryResult>().text,
            "new answer");
}

}  // namespace
}  // namespace ccmesh::broker::testing
