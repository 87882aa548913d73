// The broker's state machine through its verbs alone: no sockets, no loop, a manual clock.
// What it sends is recorded by a PeerSender; what it changed, by an observer of its events.
#include <map>
#include <string>
#include <vector>

#include "broker_core_fixture.hpp"

namespace ccmesh::broker {
namespace {

using testing::BrokerCoreTest;
using testing::envelope;

TEST_F(BrokerCoreTest, AQueryIsAdmittedDeliveredAndFinishedWithItsFigures) {
  join("w1");
  startIdle("s");
  const std::size_t before = log_.events.size();
  core_->admitQuery("c", msg::viewOf(msg::Query{7, "s", "hi", true, 0, 0}));
  const auto query = forwarded("w1");
  clock_.advance(Millis(5));
  core_->markDelivered("w1", query.id);
  clock_.advance(Millis(10));
  core_->relayEvent("w1", envelope(MessageType::kEvent, msg::Event{query.id, 0, "delta", "he"}),
                    msg::Event{query.id, 0, "delta", "he"});
  clock_.advance(Millis(20));
  msg::QueryResult result;
  result.id = query.id;
  result.session = "s";
  result.text = "hello";
  result.cost_usd = 0.25;
  result.input_tokens = 3;
  result.output_tokens = 4;
  core_->settleResult("w1", envelope(MessageType::kResult, result));

  EXPECT_EQ(log_.names(before),
            (std::vector<std::string>{"query_admitted", "query_delivered", "query_finished"}));
  const auto& finished = log_.last<event::QueryFinished>();
  EXPECT_EQ(finished.outcome, "ok");
  EXPECT_EQ(finished.worker, "w1");
  EXPECT_EQ(finished.duration, Millis(35));
  EXPECT_EQ(finished.time_to_first_delta, Millis(15));
  EXPECT_DOUBLE_EQ(finished.cost_usd, 0.25);
  EXPECT_EQ(finished.input_tokens, 3u);
  EXPECT_EQ(finished.output_tokens, 4u);
  // The client got the delta and the result under its own id.
  EXPECT_EQ(sender_.last("c", MessageType::kEvent, true).as<msg::Event>().id, 7u);
  EXPECT_EQ(sender_.last("c", MessageType::kResult, true).as<msg::QueryResult>().text, "hello");
  EXPECT_EQ(core_->requests().size(), 0u);
}

TEST_F(BrokerCoreTest, EventsAreNumberedInOrderFromOne) {
  join("w1");
  startIdle("s");
  ASSERT_FALSE(log_.events.empty());
  for (std::size_t i = 0; i < log_.events.size(); ++i) EXPECT_EQ(log_.events[i].seq, i + 1);
  EXPECT_EQ(log_.names(),
            (std::vector<std::string>{"worker_joined", "session_registered", "session_placed",
                                      "session_state_changed", "session_state_changed"}));
  EXPECT_EQ(log_.last<event::SessionRegistered>().creator, "alice");
  EXPECT_EQ(log_.last<event::SessionStateChanged>().to, "idle");
}

TEST_F(BrokerCoreTest, AFailoverAnnouncesTheLossTheQueryAndTheMove) {
  join("w1", 1);
  startIdle("s");
  join("w2", 1);
  core_->admitQuery("c", msg::viewOf(msg::Query{7, "s", "hi", false, 0, 0}));
  core_->markDelivered("w1", forwarded("w1").id);
  const std::size_t before = log_.events.size();
  core_->workerLost("w1", event::LossCause::kSilence, "silent");

  EXPECT_EQ(log_.names(before),
            (std::vector<std::string>{"worker_lost", "query_finished", "session_state_changed",
                                      "session_placed", "session_state_changed", "session_moved"}));
  EXPECT_EQ(log_.last<event::WorkerLost>().sessions, 1u);
  EXPECT_EQ(log_.last<event::QueryFinished>().outcome, "worker_lost");
  const auto& moved = log_.last<event::SessionMoved>();
  EXPECT_EQ(moved.from, "w1");
  EXPECT_EQ(moved.to, "w2");
  EXPECT_FALSE(moved.requested);
  EXPECT_EQ(counters_.counted().workers_lost, 1u);
  EXPECT_EQ(sender_.last("c", MessageType::kError, true).as<msg::ErrorReply>().code, "worker_lost");
}

TEST_F(BrokerCoreTest, AQueryNotDeliveredFollowsItsSessionToTheNextWorker) {
  join("w1", 1);
  startIdle("s");
  join("w2", 1);
  core_->admitQuery("c", msg::viewOf(msg::Query{7, "s", "hi", false, 0, 0}));
  const auto first = forwarded("w1");
  core_->workerLost("w1", event::LossCause::kSilence, "silent");
  const auto again = forwarded("w2");
  EXPECT_EQ(again.id, first.id) << "the same request, never delivered, is sent again";
  EXPECT_EQ(core_->requests().size(), 1u);
}

// A worker spawns a few CLIs per loop round, in the order names arrive: after a failover the
// names with queries to answer (here in flight on the lost worker) are assigned first.
TEST_F(BrokerCoreTest, AFailoverAssignsNamesWithQueriesFirst) {
  join("w1");
  for (const char* name : {"s1", "s2", "s3", "s4"}) startIdle(name);
  join("w2");
  core_->admitQuery("c", msg::viewOf(msg::Query{7, "s2", "hi", false, 0, 0}));
  core_->admitQuery("c", msg::viewOf(msg::Query{8, "s4", "hi", false, 0, 0}));
  EXPECT_EQ(forwarded("w1").session, "s4");
  const std::size_t before = sender_.to_workers.size();
  core_->workerLost("w1", event::LossCause::kSilence, "silent");

  std::vector<std::string> assigned;
  for (std::size_t i = before; i < sender_.to_workers.size(); ++i) {
    const auto& sent = sender_.to_workers[i];
    if (sent.peer == "r-w2" && sent.type == MessageType::kAssign) {
      assigned.push_back(sent.as<msg::Assign>().session);
    }
  }
  EXPECT_EQ(assigned, (std::vector<std::string>{"s2", "s4", "s1", "s3"}))
      << "names with queries first, each group in name order";
  EXPECT_EQ(forwarded("w2").session, "s4") << "the queries followed their names";
  EXPECT_EQ(core_->requests().waitingFor("s2").size(), 0u);
}

TEST_F(BrokerCoreTest, PendingNamesWithQueriesArePlacedFirst) {
  join("w1", 1);
  startIdle("a");
  for (const char* name : {"s1", "s2", "s3"}) core_->start("c", msg::Start{2, name, {}}, "alice");
  EXPECT_EQ(core_->sessions().pendingCount(), 3u) << "w1 is full";
  core_->admitQuery("c", msg::viewOf(msg::Query{7, "s3", "hi", false, 0, 0}));
  join("w2", 1);
  EXPECT_EQ(sender_.last("r-w2", MessageType::kAssign).as<msg::Assign>().session, "s3")
      << "the one place goes to the name a prompt waits for";
  EXPECT_EQ(forwarded("w2").session, "s3");
  EXPECT_EQ(core_->sessions().pendingCount(), 2u);
}

TEST_F(BrokerCoreTest, AMoveStopsTheOldCopyThenPlacesTheNameOnTheTarget) {
  join("w1");
  join("w2");
  const std::string from = startIdle("s");
  const std::string to = from == "w1" ? "w2" : "w1";
  core_->beginMove("c", msg::Move{5, "s", to});
  const auto stop = sender_.last("r-" + from, MessageType::kTerminate).as<msg::Terminate>();
  // Queries wait in the broker while it moves.
  core_->admitQuery("c", msg::viewOf(msg::Query{6, "s", "hi", false, 0, 0}));
  EXPECT_EQ(core_->requests().waitingFor("s").size(), 1u);
  const std::size_t before = log_.events.size();
  core_->settleResult(from,
                      envelope(MessageType::kResult, msg::Ack{stop.id, "s", from, 1, "stopped"}));
  EXPECT_EQ(log_.names(before),
            (std::vector<std::string>{"session_state_changed", "session_placed",
                                      "session_state_changed", "session_moved"}));
  EXPECT_TRUE(log_.last<event::SessionMoved>().requested);
  EXPECT_EQ(core_->sessions().find("s")->worker, to);
  EXPECT_EQ(forwarded(to).session, "s") << "the waiting query went with it";
}

TEST_F(BrokerCoreTest, APoolCheckoutIsAnnouncedAndItsLapsedLeaseReclaimed) {
  join("w1");
  core_->createPool("c", msg::PoolCreate{1, "p", 2, "", {}, {}}, "alice");
  EXPECT_EQ(log_.last<event::PoolCreated>().size, 2u);
  EXPECT_EQ(core_->sessions().createdBy("alice"), 2u);
  core_->checkout("c", "", msg::PoolCheckout{2, "p", 100, 0});
  const auto granted = sender_.last("c", MessageType::kResult, true).as<msg::CheckoutResult>();
  const auto& out = log_.last<event::MemberCheckedOut>();
  EXPECT_EQ(out.member, granted.member);
  EXPECT_EQ(out.lease_id, granted.lease_id);
  core_->checkin("c", "", msg::PoolCheckin{3, "p", granted.member, granted.lease_id});
  EXPECT_EQ(log_.last<event::MemberCheckedIn>().member, granted.member);

  core_->checkout("c", "", msg::PoolCheckout{4, "p", 100, 0});
  const std::size_t before = log_.events.size();
  clock_.advance(Millis(100));
  core_->expire(clock_.now());
  EXPECT_EQ(log_.names(before), (std::vector<std::string>{"member_reclaimed"}));
  EXPECT_EQ(core_->pools().find("p")->reclaims, 1u);
}

TEST_F(BrokerCoreTest, APoolMemberThatRefusesIsPassedOverInsideTheVerb) {
  join("w1");
  core_->createPool("c", msg::PoolCreate{1, "p", 2, "", {}, {}}, "");
  core_->submitPoolQuery("c", msg::PoolQuery{9, "p", "hi", false, 0});
  const auto first = forwarded("w1");
  const msg::ErrorReply busy{first.id, "busy", "full", "", first.session};
  core_->settleError("w1", envelope(MessageType::kError, busy), busy);
  const auto second = forwarded("w1");
  EXPECT_NE(second.session, first.session);
  msg::QueryResult result;
  result.id = second.id;
  result.session = second.session;
  core_->settleResult("w1", envelope(MessageType::kResult, result));
  const auto answer = sender_.last("c", MessageType::kResult, true).as<msg::QueryResult>();
  EXPECT_EQ(answer.id, 9u);
  EXPECT_EQ(answer.pool, "p");
  EXPECT_EQ(answer.session, second.session);
}

TEST_F(BrokerCoreTest, IllegalTransitionsAreRefusedAndChangeNothing) {
  join("w1");
  join("w2");
  const std::string worker = startIdle("s");
  const std::string other = worker == "w1" ? "w2" : "w1";

  core_->terminate("c", msg::Terminate{2, "nobody", 0});
  EXPECT_EQ(sender_.last("c", MessageType::kError, true).as<msg::ErrorReply>().code, "not_found");

  core_->start("c", msg::Start{3, "s", {}}, "");
  EXPECT_EQ(sender_.last("c", MessageType::kError, true).as<msg::ErrorReply>().code,
            "already_exists");

  core_->beginMove("c", msg::Move{4, "s", other});
  core_->beginMove("c", msg::Move{5, "s", other});
  EXPECT_EQ(sender_.last("c", MessageType::kError, true).as<msg::ErrorReply>().code, "busy")
      << "a session moves once at a time";

  // Replies from a worker the request was not forwarded to are stale.
  core_->admitQuery("c", msg::viewOf(msg::Query{6, "t", "hi", false, 0, 0}));
  EXPECT_EQ(sender_.last("c", MessageType::kError, true).as<msg::ErrorReply>().code, "not_found");
  const std::size_t before = log_.events.size();
  const uint64_t stale_before = counters_.counted().stale_messages;
  core_->markDelivered(other, 999);
  EXPECT_EQ(log_.names(before), (std::vector<std::string>{"message_refused"}));
  EXPECT_EQ(counters_.counted().stale_messages, stale_before + 1);

  // A report about an older generation fences that copy.
  msg::SessionUpdate update;
  update.session = "s";
  update.generation = 0;
  update.state = "idle";
  core_->sessionUpdate(other, update);
  EXPECT_EQ(log_.last<event::WorkerFenced>().worker, other);
  EXPECT_EQ(core_->sessions().find("s")->worker, worker) << "the current placement stays";
}

TEST_F(BrokerCoreTest, TerminateRemovesTheNameOnceItsWorkerConfirms) {
  join("w1");
  startIdle("s");
  core_->terminate("c", msg::Terminate{2, "s", 0});
  core_->terminate("c", msg::Terminate{3, "s", 0});
  EXPECT_EQ(sender_.last("c", MessageType::kError, true).as<msg::ErrorReply>().code, "not_found")
      << "a name being terminated is gone for new requests";
  const auto stop = sender_.last("r-w1", MessageType::kTerminate).as<msg::Terminate>();
  core_->settleResult("w1",
                      envelope(MessageType::kResult, msg::Ack{stop.id, "s", "w1", 1, "stopped"}));
  EXPECT_EQ(core_->sessions().find("s"), nullptr);
  EXPECT_EQ(log_.last<event::SessionTerminated>().session, "s");
}

TEST_F(BrokerCoreTest, AnUnreachableWorkerIsLostOnceReaped) {
  join("w1");
  startIdle("s");
  join("w2");
  sender_.unreachable.insert("r-w1");
  core_->probe("w1");
  EXPECT_TRUE(core_->workers().find("w1")->lost());
  core_->reapLost();
  EXPECT_EQ(core_->workers().find("w1"), nullptr);
  EXPECT_EQ(log_.last<event::WorkerLost>().reason, "unreachable (disconnected)");
  EXPECT_EQ(core_->sessions().find("s")->worker, "w2");
}

}  // namespace
}  // namespace ccmesh::broker
