// Pools through an in-process broker with scripted workers and a manual clock.
#include <gtest/gtest.h>

#include "broker_peer.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/requests.hpp"

namespace ccmesh::broker::testing {
namespace {

class PoolRequestHandlerTest : public BrokerFixture {
 protected:
  // A broker, one worker with room for 8 sessions, one client, and pool "p" of `size`
  // members placed on the worker.
  void startWithPool(uint32_t size, const std::string& strategy = {}) {
    startBroker();
    worker_ = joinWorker("w1", 8);
    client_ = client();
    auto created =
        ask(*client_, MessageType::kPoolCreate, msg::PoolCreate{1, "p", size, strategy, {}, {}})
            .as<msg::PoolInfoResult>();
    ASSERT_EQ(created.pool.size, size);
    for (uint32_t i = 0; i < size; ++i) {
      auto assign = worker_->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
      EXPECT_EQ(assign.session, "p/" + std::to_string(i));
      EXPECT_EQ(assign.options.pool, "p") << "members carry their pool to the worker";
    }
  }

  // Sends a pool query and returns the member query the worker received.
  msg::Query poolQuery(uint64_t id) {
    client_->send(MessageType::kPoolQuery, msg::PoolQuery{id, "p", "hi", false, 0});
    return worker_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  }

  msg::PoolInfo poolInfo() {
    return ask(*client_, MessageType::kPoolInfo, msg::PoolNamed{900, "p"})
        .as<msg::PoolInfoResult>()
        .pool;
  }

  std::unique_ptr<BrokerPeer> worker_;  // the scripted worker w1
  std::unique_ptr<BrokerPeer> client_;  // the client
};

TEST_F(PoolRequestHandlerTest, RoundRobinResultsNameTheMemberAndThePool) {
  startWithPool(2);
  for (uint64_t i = 0; i < 4; ++i) {
    auto query = poolQuery(10 + i);
    EXPECT_EQ(query.session, i % 2 == 0 ? "p/0" : "p/1");
    worker_->send(MessageType::kResult, answer(query.id, query.session, "ok"));
    auto result = client_->expect(*broker_, MessageType::kResult).as<msg::QueryResult>();
    EXPECT_EQ(result.id, 10 + i);
    EXPECT_EQ(result.session, query.session);
    EXPECT_EQ(result.pool, "p");
  }
  auto info = poolInfo();
  EXPECT_EQ(info.members[0].served, 2u);
  EXPECT_EQ(info.members[1].served, 2u);
}

TEST_F(PoolRequestHandlerTest, AMemberThatAnswersBusyIsPassedOverThenThePoolIsExhausted) {
  startWithPool(2);
  auto first = poolQuery(10);
  EXPECT_EQ(first.session, "p/0");
  worker_->send(MessageType::kError, msg::ErrorReply{first.id, "busy", "full", "", "p/0"});
  auto second = worker_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_EQ(second.session, "p/1") << "the busy member's refusal moves the query on";
  worker_->send(MessageType::kResult, answer(second.id, "p/1", "ok"));
  auto result = client_->expect(*broker_, MessageType::kResult).as<msg::QueryResult>();
  EXPECT_EQ(result.id, 10u);
  EXPECT_EQ(result.session, "p/1");

  auto again = poolQuery(11);
  worker_->send(MessageType::kError, msg::ErrorReply{again.id, "busy", "full", "", ""});
  auto other = worker_->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_NE(other.session, again.session);
  worker_->send(MessageType::kError, msg::ErrorReply{other.id, "busy", "full", "", ""});
  auto exhausted = client_->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(exhausted.id, 11u);
  EXPECT_EQ(exhausted.code, "pool_exhausted");
  worker_->expectSilence(*broker_);
  EXPECT_EQ(poolInfo().exhausted, 1u);
  EXPECT_EQ(broker_->requests().size(), 0u);
}

TEST_F(PoolRequestHandlerTest, AnErrorAfterDeliveryIsNeverRetried) {
  startWithPool(2);
  auto query = poolQuery(10);
  worker_->send(MessageType::kDelivered, msg::Delivered{query.id});
  worker_->send(MessageType::kError,
                msg::ErrorReply{query.id, "session_crashed", "gone", "part", query.session});
  auto error = client_->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(error.code, "session_crashed");
  EXPECT_EQ(error.session, "p/0");
  worker_->expectSilence(*broker_);
}

TEST_F(PoolRequestHandlerTest, CheckoutWaitsForACheckinAndALapsedLeaseIsReclaimed) {
  startWithPool(1);
  auto held = ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{2, "p", 0, 0})
                  .as<msg::CheckoutResult>();
  EXPECT_EQ(held.member, "p/0");
  EXPECT_EQ(held.lease_ms, 60000u) << "the default lease";
  auto none = ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{3, "p", 0, 0})
                  .as<msg::ErrorReply>();
  EXPECT_EQ(none.code, "pool_exhausted") << "no wait asked: answered at once";
  auto busy = ask(*client_, MessageType::kPoolQuery, msg::PoolQuery{4, "p", "hi", false, 0})
                  .as<msg::ErrorReply>();
  EXPECT_EQ(busy.code, "pool_exhausted") << "pool queries skip checked-out members";

  client_->send(MessageType::kPoolCheckout, msg::PoolCheckout{5, "p", 200, 5000});
  client_->expectSilence(*broker_);
  EXPECT_EQ(poolInfo().waiting_checkouts, 1u);
  auto wrong =
      ask(*client_, MessageType::kPoolCheckin, msg::PoolCheckin{6, "p", "p/0", held.lease_id + 1})
          .as<msg::ErrorReply>();
  EXPECT_EQ(wrong.code, "not_found") << "another lease's id releases nothing";
  client_->send(MessageType::kPoolCheckin, msg::PoolCheckin{7, "p", "p/0", held.lease_id});
  EXPECT_EQ(client_->expect(*broker_, MessageType::kResult).as<msg::CheckinResult>().id, 7u);
  auto granted = client_->expect(*broker_, MessageType::kResult).as<msg::CheckoutResult>();
  EXPECT_EQ(granted.id, 5u);
  EXPECT_EQ(granted.member, "p/0");

  advanceKeepingAlive(Millis(200), {worker_.get()});
  auto info = poolInfo();
  EXPECT_EQ(info.reclaims, 1u);
  EXPECT_EQ(info.checked_out, 0u);
  EXPECT_FALSE(info.members[0].checked_out);
  auto late =
      ask(*client_, MessageType::kPoolCheckin, msg::PoolCheckin{8, "p", "p/0", granted.lease_id})
          .as<msg::ErrorReply>();
  EXPECT_EQ(late.code, "not_found") << "the lease lapsed";
}

// A lease longer than the maximum is refused, not cut short without a word.
TEST_F(PoolRequestHandlerTest, ALeaseAboveTheMaximumIsRefused) {
  startWithPool(1);
  const uint64_t day = 24 * 60 * 60 * 1000;
  for (uint64_t lease : {day + 1, uint64_t{1} << 63, ~uint64_t{0}}) {
    auto refused = ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{2, "p", lease, 0})
                       .as<msg::ErrorReply>();
    EXPECT_EQ(refused.code, "bad_request") << lease;
    EXPECT_EQ(refused.id, 2u);
    EXPECT_NE(refused.message.find("lease_ms"), std::string::npos) << refused.message;
  }
  EXPECT_EQ(poolInfo().checked_out, 0u);
  auto longest = ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{3, "p", day, 0})
                     .as<msg::CheckoutResult>();
  EXPECT_EQ(longest.lease_ms, day) << "the maximum itself is granted as asked";
}

// A wait of any length is taken (capped at 24 h): a huge one must not end at once.
TEST_F(PoolRequestHandlerTest, AHugeCheckoutWaitStillWaits) {
  startWithPool(1);
  ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{2, "p", 0, 0});
  client_->send(MessageType::kPoolCheckout, msg::PoolCheckout{3, "p", 0, ~uint64_t{0}});
  client_->expectSilence(*broker_);
  EXPECT_EQ(poolInfo().waiting_checkouts, 1u);
}

TEST_F(PoolRequestHandlerTest, CheckinWithoutTheLeaseIdWorksOnlyForTheHolder) {
  startWithPool(1);
  auto held = ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{2, "p", 0, 0})
                  .as<msg::CheckoutResult>();
  auto other = client();
  auto refused = ask(*other, MessageType::kPoolCheckin, msg::PoolCheckin{3, "p", "p/0", 0})
                     .as<msg::ErrorReply>();
  EXPECT_EQ(refused.code, "bad_request");
  EXPECT_NE(refused.message.find("lease id"), std::string::npos) << refused.message;
  EXPECT_EQ(poolInfo().checked_out, 1u) << "another client released nothing";
  auto stolen = ask(*other, MessageType::kPoolCheckout, msg::PoolCheckout{4, "p", 0, 0})
                    .as<msg::ErrorReply>();
  EXPECT_EQ(stolen.code, "pool_exhausted");

  auto mine = ask(*client_, MessageType::kPoolCheckin, msg::PoolCheckin{5, "p", "p/0", 0})
                  .as<msg::CheckinResult>();
  EXPECT_EQ(mine.member, "p/0") << "the holder's own connection needs no lease id";
  auto again = ask(*other, MessageType::kPoolCheckout, msg::PoolCheckout{6, "p", 0, 0})
                   .as<msg::CheckoutResult>();
  EXPECT_NE(again.lease_id, held.lease_id);
  auto by_lease =
      ask(*client_, MessageType::kPoolCheckin, msg::PoolCheckin{7, "p", "p/0", again.lease_id})
          .as<msg::CheckinResult>();
  EXPECT_EQ(by_lease.id, 7u) << "anyone with the lease id may give it back";
}

TEST_F(PoolRequestHandlerTest, WaitingCheckoutsCountAsTheClientsPendingRequests) {
  config_.max_pending_per_client = 2;
  startWithPool(1);
  ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{2, "p", 0, 0});
  client_->send(MessageType::kPoolCheckout, msg::PoolCheckout{3, "p", 0, 5000});
  client_->send(MessageType::kPoolCheckout, msg::PoolCheckout{4, "p", 0, 5000});
  client_->expectSilence(*broker_);
  EXPECT_EQ(poolInfo().waiting_checkouts, 2u);
  auto refused = ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{5, "p", 0, 5000})
                     .as<msg::ErrorReply>();
  EXPECT_EQ(refused.id, 5u);
  EXPECT_EQ(refused.code, "busy");
  EXPECT_NE(refused.message.find("--max-pending-per-client"), std::string::npos);
  EXPECT_EQ(poolInfo().waiting_checkouts, 2u);

  client_->send(MessageType::kCancel, msg::Cancel{3});
  EXPECT_EQ(client_->expect(*broker_, MessageType::kError).as<msg::ErrorReply>().id, 3u);
  client_->send(MessageType::kPoolCheckout, msg::PoolCheckout{6, "p", 0, 5000});
  client_->expectSilence(*broker_);
  EXPECT_EQ(poolInfo().waiting_checkouts, 2u) << "room again after a cancel";
}

TEST_F(PoolRequestHandlerTest, ACancelledWaitingCheckoutEndsAndIsNeverGranted) {
  startWithPool(1);
  auto held = ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{2, "p", 0, 0})
                  .as<msg::CheckoutResult>();
  auto waiter = client();
  waiter->send(MessageType::kPoolCheckout, msg::PoolCheckout{3, "p", 0, 5000});
  waiter->expectSilence(*broker_);
  ASSERT_EQ(poolInfo().waiting_checkouts, 1u);
  waiter->send(MessageType::kCancel, msg::Cancel{3});
  auto cancelled = waiter->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(cancelled.id, 3u);
  EXPECT_EQ(cancelled.code, "cancelled");
  EXPECT_EQ(poolInfo().waiting_checkouts, 0u);

  ask(*client_, MessageType::kPoolCheckin, msg::PoolCheckin{4, "p", "p/0", held.lease_id});
  waiter->expectSilence(*broker_);
  EXPECT_EQ(poolInfo().checked_out, 0u) << "the cancelled checkout got nothing";
  auto later = ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{5, "p", 0, 0})
                   .as<msg::CheckoutResult>();
  EXPECT_EQ(later.member, "p/0");
}

TEST_F(PoolRequestHandlerTest, CheckoutWaitsForAnIdleMember) {
  startWithPool(2);
  auto first = poolQuery(10);
  auto second = poolQuery(11);
  ASSERT_NE(first.session, second.session);
  client_->send(MessageType::kPoolCheckout, msg::PoolCheckout{12, "p", 0, 5000});
  client_->expectSilence(*broker_);
  EXPECT_EQ(poolInfo().waiting_checkouts, 1u) << "both members run a query: none is idle";
  worker_->send(MessageType::kResult, answer(second.id, second.session, "ok"));
  EXPECT_EQ(client_->expect(*broker_, MessageType::kResult).as<msg::QueryResult>().id, 11u);
  auto granted = client_->expect(*broker_, MessageType::kResult).as<msg::CheckoutResult>();
  EXPECT_EQ(granted.id, 12u);
  EXPECT_EQ(granted.member, second.session) << "the member that became idle";
}

TEST_F(PoolRequestHandlerTest, CheckoutsLeaveTheRoundRobinRotationAlone) {
  startWithPool(3);
  auto first = poolQuery(10);
  EXPECT_EQ(first.session, "p/0");
  worker_->send(MessageType::kResult, answer(first.id, first.session, "ok"));
  client_->expect(*broker_, MessageType::kResult);
  auto held = ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{11, "p", 0, 0})
                  .as<msg::CheckoutResult>();
  EXPECT_EQ(held.member, "p/1") << "the next idle member by rotation";
  ask(*client_, MessageType::kPoolCheckin, msg::PoolCheckin{12, "p", "p/1", held.lease_id});
  EXPECT_EQ(poolQuery(13).session, "p/1") << "the checkout did not move the rotation on";
}

TEST_F(PoolRequestHandlerTest, AWaitingCheckoutEndsPoolExhaustedAtItsDeadline) {
  startWithPool(1);
  ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{2, "p", 0, 0});
  client_->send(MessageType::kPoolCheckout, msg::PoolCheckout{3, "p", 0, 500});
  client_->expectSilence(*broker_);
  advanceKeepingAlive(Millis(500), {worker_.get()});
  auto error = client_->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(error.id, 3u);
  EXPECT_EQ(error.code, "pool_exhausted");
}

// A client that asks whether a waiting checkout is still known must hear yes: told
// `unknown`, it would give up, and the member granted later would stay checked out, held by
// nobody, until its lease lapsed.
TEST_F(PoolRequestHandlerTest, PingKnowsAWaitingCheckout) {
  startWithPool(1);
  auto held = ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{2, "p", 0, 0})
                  .as<msg::CheckoutResult>();
  client_->send(MessageType::kPoolCheckout, msg::PoolCheckout{3, "p", 0, 5000});
  client_->expectSilence(*broker_);
  auto pong = ask(*client_, MessageType::kPing, msg::Ping{4, {3, 99}}).as<msg::PingResult>();
  EXPECT_EQ(pong.unknown, std::vector<uint64_t>{99}) << "the waiting checkout 3 is known";
  auto other = client();
  auto elsewhere = ask(*other, MessageType::kPing, msg::Ping{5, {3}}).as<msg::PingResult>();
  EXPECT_EQ(elsewhere.unknown, std::vector<uint64_t>{3}) << "ids are scoped to a connection";

  ask(*client_, MessageType::kPoolCheckin, msg::PoolCheckin{6, "p", "p/0", held.lease_id});
  EXPECT_EQ(client_->expect(*broker_, MessageType::kResult).as<msg::CheckoutResult>().id, 3u);
  auto granted = ask(*client_, MessageType::kPing, msg::Ping{7, {3}}).as<msg::PingResult>();
  EXPECT_EQ(granted.unknown, std::vector<uint64_t>{3}) << "answered: no longer in flight";
}

// A request reusing the id of one in flight is refused with its own code, so the client can
// tell that the refusal is not the end of the first one, which goes on.
TEST_F(PoolRequestHandlerTest, AnIdInFlightIsRefusedAsDuplicateAndTheFirstGoesOn) {
  startWithPool(2);
  auto held = ask(*client_, MessageType::kPoolCheckout, msg::PoolCheckout{2, "p", 0, 0})
                  .as<msg::CheckoutResult>();
  auto running = poolQuery(3);  // the other member runs it
  client_->send(MessageType::kPoolCheckout, msg::PoolCheckout{4, "p", 0, 5000});
  client_->expectSilence(*broker_);
  ASSERT_EQ(poolInfo().waiting_checkouts, 1u);

  auto reused = [&](MessageType type, const auto& body) {
    auto reply = ask(*client_, type, body).template as<msg::ErrorReply>();
    EXPECT_EQ(reply.code, "duplicate_id") << messageTypeName(type) << ": " << reply.message;
    return reply.id;
  };
  EXPECT_EQ(reused(MessageType::kPoolCheckout, msg::PoolCheckout{4, "p", 0, 5000}), 4u);
  EXPECT_EQ(reused(MessageType::kPoolQuery, msg::PoolQuery{4, "p", "hi", false, 0}), 4u);
  EXPECT_EQ(reused(MessageType::kQuery, msg::Query{3, "p/0", "hi"}), 3u);
  EXPECT_EQ(reused(MessageType::kPoolCheckout, msg::PoolCheckout{3, "p", 0, 0}), 3u);
  EXPECT_EQ(reused(MessageType::kInfo, msg::Info{3, "p/0"}), 3u);
  EXPECT_EQ(poolInfo().waiting_checkouts, 1u) << "the first checkout 4 still waits";
  worker_->expectSilence(*broker_);

  worker_->send(MessageType::kResult, answer(running.id, running.session, "ok"));
  EXPECT_EQ(client_->expect(*broker_, MessageType::kResult).as<msg::QueryResult>().id, 3u);
  auto granted = client_->expect(*broker_, MessageType::kResult).as<msg::CheckoutResult>();
  EXPECT_EQ(granted.id, 4u);
  EXPECT_EQ(granted.member, running.session);
  EXPECT_NE(granted.lease_id, held.lease_id);
  auto fresh = client();
  EXPECT_EQ(ask(*fresh, MessageType::kPoolCheckout, msg::PoolCheckout{4, "p", 0, 0})
                .as<msg::ErrorReply>()
                .code,
            "pool_exhausted")
      << "another connection may use the same id";
}

TEST_F(PoolRequestHandlerTest, WorkersBringPoolMembersBackAfterABrokerRestart) {
  startBroker();
  auto report = [](const std::string& name, const std::string& pool) {
    msg::SessionReport session;
    session.update.session = name;
    session.update.generation = 3;
    session.update.state = "idle";
    session.options.pool = pool;
    session.options.pool_strategy = "least_busy";
    return session;
  };
  auto worker = joinWorker("w1", 8, {report("p/1", "p"), report("p/0", "p"), report("x", "")});
  auto peer = client();
  auto pools = ask(*peer, MessageType::kPoolList, msg::Plain{1}).as<msg::PoolListResult>().pools;
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0].name, "p");
  EXPECT_EQ(pools[0].strategy, "least_busy");
  EXPECT_TRUE(pools[0].owned);
  ASSERT_EQ(pools[0].members.size(), 2u);
  EXPECT_EQ(pools[0].members[0].name, "p/0") << "members in index order";
  EXPECT_EQ(pools[0].members[1].state, "idle");
}

TEST_F(PoolRequestHandlerTest, GroupsExistingSessionsAndDeletesOnlyWhatItCreated) {
  startBroker();
  broker_->addPools({PoolSpec{"f", 2, "random", {}, {}}});
  auto peer = client();
  auto from_file =
      ask(*peer, MessageType::kPoolInfo, msg::PoolNamed{1, "f"}).as<msg::PoolInfoResult>().pool;
  EXPECT_EQ(from_file.strategy, "random");
  EXPECT_EQ(from_file.members[1].state, "pending");

  ask(*peer, MessageType::kStart, msg::Start{2, "s", {}});
  auto missing =
      ask(*peer, MessageType::kPoolCreate, msg::PoolCreate{3, "g", 0, "", {}, {"s", "nobody"}})
          .as<msg::ErrorReply>();
  EXPECT_EQ(missing.code, "not_found");
  auto grouped = ask(*peer, MessageType::kPoolCreate, msg::PoolCreate{4, "g", 0, "", {}, {"s"}})
                     .as<msg::PoolInfoResult>();
  EXPECT_FALSE(grouped.pool.owned);
  auto twice = ask(*peer, MessageType::kPoolCreate, msg::PoolCreate{5, "h", 0, "", {}, {"s"}})
                   .as<msg::ErrorReply>();
  EXPECT_EQ(twice.code, "already_exists") << "a session is in one pool at most";
  auto resize =
      ask(*peer, MessageType::kPoolResize, msg::PoolResize{6, "g", 3}).as<msg::ErrorReply>();
  EXPECT_EQ(resize.code, "bad_request");
  ask(*peer, MessageType::kPoolDelete, msg::PoolNamed{7, "g"}).as<msg::PoolInfoResult>();
  EXPECT_NE(broker_->sessions().find("s"), nullptr) << "grouped sessions stay";

  ask(*peer, MessageType::kPoolResize, msg::PoolResize{8, "f", 3}).as<msg::PoolInfoResult>();
  EXPECT_NE(broker_->sessions().find("f/2"), nullptr);
  ask(*peer, MessageType::kPoolDelete, msg::PoolNamed{9, "f"}).as<msg::PoolInfoResult>();
  EXPECT_EQ(broker_->sessions().find("f/0"), nullptr) << "pending members go at once";
  EXPECT_EQ(broker_->pools().size(), 0u);
}

TEST_F(PoolRequestHandlerTest, RefusesBadPoolRequests) {
  startBroker();
  auto peer = client();
  auto early = ask(*peer, MessageType::kPoolInfo, msg::PoolNamed{9, "nope"}).as<msg::ErrorReply>();
  EXPECT_EQ(early.code, "unavailable") << "before any worker joined, pools may still come back";
  auto worker = joinWorker("w1", 4);
  auto code = [&](MessageType type, const auto& body) {
    return ask(*peer, type, body).template as<msg::ErrorReply>().code;
  };
  EXPECT_EQ(code(MessageType::kPoolCreate, msg::PoolCreate{1, "p", 0, "", {}, {}}), "bad_request");
  EXPECT_EQ(code(MessageType::kPoolCreate, msg::PoolCreate{2, "p", 2, "fastest", {}, {}}),
            "bad_request");
  EXPECT_EQ(code(MessageType::kPoolCreate, msg::PoolCreate{3, "-p", 2, "", {}, {}}), "bad_request");
  EXPECT_EQ(code(MessageType::kPoolQuery, msg::PoolQuery{4, "nope", "hi", false, 0}), "not_found");
  EXPECT_EQ(code(MessageType::kPoolCheckin, msg::PoolCheckin{5, "nope", "m", 0}), "not_found");
  peer->send(MessageType::kStart, msg::Start{6, "p/1", {}});
  worker->expect(*broker_, MessageType::kAssign);
  EXPECT_EQ(code(MessageType::kPoolCreate, msg::PoolCreate{7, "p", 2, "", {}, {}}),
            "already_exists")
      << "p/1 is taken";
  EXPECT_EQ(broker_->pools().size(), 0u);
}

}  // namespace
}  // namespace ccmesh::broker::testing
