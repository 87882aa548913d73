// Session residency against the real mock CLI, with a manual clock: on-demand start, the
// idle timeout, waiting for a live slot, and recycling a CLI that grew too large.
#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "ccmesh/worker/session.hpp"
#include "mock_cli_fixture.hpp"

namespace ccmesh::worker {
namespace {

// What a session reported, and a live budget of one slot the test hands out by hand.
struct BudgetObserver final : SessionObserver {
  std::vector<msg::SessionUpdate> updates;
  std::vector<msg::QueryResult> results;
  std::vector<msg::ErrorReply> errors;
  std::vector<msg::Ack> acks;
  bool slot_free = true;  // the next acquireLiveSlot succeeds
  int acquired = 0;       // slots taken
  int released = 0;       // slots given back (or waits withdrawn)
  bool waiting = false;   // the session waits for a slot (acquire said no, not yet granted)

  void onSessionChanged(const msg::SessionUpdate& u) override { updates.push_back(u); }
  void onDelivered(uint64_t) override {}
  void onEvent(const msg::Event&) override {}
  void onQueryResult(const msg::QueryResult& r) override { results.push_back(r); }
  void onError(const msg::ErrorReply& e) override { errors.push_back(e); }
  void onAck(const msg::Ack& a) override { acks.push_back(a); }
  bool acquireLiveSlot(Session&) override {
    waiting = !slot_free;
    if (!slot_free) return false;
    ++acquired;
    return true;
  }
  void onLiveSlotReleased(Session&) override {
    waiting = false;
    ++released;
  }
  bool waitsForSlot(const Session&) const override { return waiting; }
  // Hands the slot the session waits for over (it leaves the waiting line first).
  bool grant(Session& session) {
    waiting = false;
    return session.grantSlot();
  }

  std::string answer(uint64_t id) const {
    for (const auto& r : results) {
      if (r.id == id) return r.text;
    }
    for (const auto& e : errors) {
      if (e.id == id) return "error " + e.code;
    }
    return {};
  }
};

class SessionResidencyTest : public MockCliFixture {
 protected:
  SessionResidencyTest() : MockCliFixture("ccmesh-residency-test-") {}

  void TearDown() override {
    session_.reset();
    MockCliFixture::TearDown();
  }

  Session& make(SessionOptions options) {
    session_ = std::make_unique<Session>("s", 3, std::move(options), context_, observer_);
    return *session_;
  }

  // Pumps the session's pipes (real time) until `done` holds; fails after 10 s.
  void runUntil(const std::function<bool()>& done, const std::string& what) {
    pumpSessionUntil(*session_, done, what);
  }

  // Sends a prompt and runs until it is answered; returns the answer.
  std::string ask(uint64_t id, const std::string& prompt) {
    session_->query(msg::Query{id, "s", prompt, false, 0, 3});
    runUntil([&] { return !observer_.answer(id).empty(); }, "an answer to " + prompt);
    return observer_.answer(id);
  }

  void waitForState(SessionState state) {
    runUntil([&] { return session_->state() == state; },
             "state " + std::string(sessionStateName(state)));
  }

  BudgetObserver observer_;           // what the session reported; the slot
  std::unique_ptr<Session> session_;  // the session under test
};

SessionOptions onDemand() {
  SessionOptions options;
  options.start = std::string(SessionOptions::kStartOnDemand);
  return options;
}

TEST_F(SessionResidencyTest, OnDemandSessionHasNoCliUntilItsFirstQuery) {
  make(onDemand()).start(1);
  ASSERT_EQ(observer_.acks.size(), 1u);
  EXPECT_EQ(observer_.acks[0].state, "hibernated");
  EXPECT_EQ(session_->process(), nullptr);
  EXPECT_EQ(session_->update().pid, 0);
  EXPECT_FALSE(session_->update().session_id.empty());
  EXPECT_TRUE(session_->dormant());
  EXPECT_EQ(observer_.acquired, 0);

  EXPECT_EQ(ask(2, "hello"), "turn 1: hello");
  EXPECT_NE(session_->process(), nullptr);
  EXPECT_EQ(observer_.acquired, 1);
  EXPECT_FALSE(session_->dormant());
}

TEST_F(SessionResidencyTest, IdleTimeoutHibernatesAndTheNextQueryResumesTheConversation) {
  SessionOptions options = onDemand();
  options.idle_timeout_ms = 1000;
  make(options).start(0);
  EXPECT_EQ(ask(1, "one"), "turn 1: one");
  EXPECT_EQ(ask(2, "two"), "turn 2: two");
  const std::string conversation = session_->update().session_id;
  ASSERT_TRUE(session_->evictable());
  EXPECT_EQ(session_->nextDeadline(), std::optional(session_->lastUsed() + Millis(1000)));

  clock_.advance(Millis(999));
  session_->onTimer();
  EXPECT_EQ(session_->state(), SessionState::kIdle);
  clock_.advance(Millis(1));
  waitForState(SessionState::kHibernated);
  EXPECT_EQ(session_->process(), nullptr);
  EXPECT_EQ(observer_.released, 1);
  EXPECT_EQ(session_->update().session_id, conversation);

  EXPECT_EQ(ask(3, "/history"), "one | two");
  EXPECT_EQ(ask(4, "three"), "turn 4: three");
  EXPECT_EQ(session_->update().restarts, 0u);
  EXPECT_EQ(observer_.acquired, 2);
}

TEST_F(SessionResidencyTest, WaitsHibernatedForALiveSlotAndStartsWhenGranted) {
  observer_.slot_free = false;
  make({}).start(1);  // eager, but the budget is spent
  ASSERT_EQ(observer_.acks.size(), 1u);
  EXPECT_EQ(observer_.acks[0].state, "hibernated");
  EXPECT_EQ(session_->process(), nullptr);
  EXPECT_FALSE(session_->dormant());  // it waits for a slot
  session_->query(msg::Query{2, "s", "queued", false, 0, 3});
  EXPECT_TRUE(observer_.answer(2).empty());

  EXPECT_TRUE(observer_.grant(*session_));
  runUntil([&] { return !observer_.answer(2).empty(); }, "the queued prompt");
  EXPECT_EQ(observer_.answer(2), "turn 1: queued");
}

TEST_F(SessionResidencyTest, AWaitForQueuedPromptsEndsWhenTheyExpire) {
  make(onDemand()).start(0);
  observer_.slot_free = false;
  session_->query(msg::Query{1, "s", "hello", false, /*timeout_ms=*/500, 3});
  EXPECT_EQ(session_->state(), SessionState::kHibernated);
  clock_.advance(Millis(500));
  session_->onTimer();
  EXPECT_EQ(observer_.answer(1), "error timeout");
  EXPECT_EQ(observer_.released, 1);  // the wait was withdrawn
  EXPECT_FALSE(observer_.waiting);
  EXPECT_FALSE(observer_.grant(*session_)) << "its prompts are gone: it needs no CLI";
  EXPECT_TRUE(session_->dormant());
}

TEST_F(SessionResidencyTest, ACliOverMaxRssIsRecycledBetweenTurnsWithItsHistory) {
  SessionOptions options;
  options.max_rss_mb = 24;  // the mock CLI starts at a few MB
  make(options).start(0);
  EXPECT_EQ(ask(1, "small"), "turn 1: small");
  EXPECT_EQ(session_->update().recycles, 0u);
  const pid_t first = session_->process()->pid();

  EXPECT_EQ(ask(2, "/grow 40"), "turn 2: /grow 40");
  // The turn ended, so the CLI is recycled at once, before any other prompt: the old one is
  // stopping, or (the pump may already have seen it exit) its successor is starting.
  const bool recycling = session_->state() == SessionState::kRestarting ||
                         (session_->process() != nullptr && session_->process()->pid() != first);
  EXPECT_TRUE(recycling) << "state " << static_cast<int>(session_->state());
  waitForState(SessionState::kIdle);
  EXPECT_NE(session_->process()->pid(), first);
  EXPECT_EQ(session_->update().recycles, 1u);
  EXPECT_EQ(session_->update().restarts, 0u);
  EXPECT_EQ(ask(3, "/history"), "small | /grow 40");
}

}  // namespace
}  // namespace ccmesh::worker
