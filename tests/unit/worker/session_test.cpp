// Session against the real mock CLI: real processes and pipes, a manual clock for every
// deadline, backoff and grace period, so nothing here sleeps.
#include "ccmesh/worker/session.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "mock_cli_fixture.hpp"

namespace ccmesh::worker {
namespace {

// Everything a session told the broker, in order.
struct RecordingObserver final : SessionObserver {
  std::vector<msg::SessionUpdate> updates;
  std::vector<uint64_t> delivered;
  std::vector<msg::Event> events;
  std::vector<msg::QueryResult> results;
  std::vector<msg::ErrorReply> errors;
  std::vector<msg::Ack> acks;
  std::vector<msg::PermissionRequest> questions;
  std::vector<msg::PermissionDecision> decisions;

  void onSessionChanged(const msg::SessionUpdate& u) override { updates.push_back(u); }
  void onDelivered(uint64_t id) override { delivered.push_back(id); }
  void onEvent(const msg::Event& e) override { events.push_back(e); }
  void onQueryResult(const msg::QueryResult& r) override { results.push_back(r); }
  void onError(const msg::ErrorReply& e) override { errors.push_back(e); }
  void onAck(const msg::Ack& a) override { acks.push_back(a); }
  void onPermissionRequest(const msg::PermissionRequest& q) override { questions.push_back(q); }
  void onPermissionDecision(const msg::PermissionDecision& d) override { decisions.push_back(d); }

  const msg::QueryResult* result(uint64_t id) const {
    for (const auto& r : results) {
      if (r.id == id) return &r;
    }
    return nullptr;
  }
  const msg::ErrorReply* error(uint64_t id) const {
    for (const auto& e : errors) {
      if (e.id == id) return &e;
    }
    return nullptr;
  }
  bool answered(uint64_t id) const { return result(id) != nullptr || error(id) != nullptr; }
};

class SessionTest : public MockCliFixture {
 protected:
  SessionTest() : MockCliFixture("ccmesh-session-test-") {}

  void SetUp() override {
    MockCliFixture::SetUp();
    context_.queue_depth = 2;
  }

  void TearDown() override {
    session_.reset();
    MockCliFixture::TearDown();
  }

  Session& make(SessionOptions options = {}) {
    session_ = std::make_unique<Session>("s", 7, std::move(options), context_, observer_);
    return *session_;
  }

  // Pumps the session's pipes (real time) until `done` holds; fails after 10 s, naming
  // what it was waiting for.
  void runUntil(const std::function<bool()>& done, const std::string& what) {
    pumpSessionUntil(*session_, done, what);
  }

  void waitForState(SessionState state) {
    runUntil([&] { return session_->state() == state; },
             std::string("state ") + std::string(sessionStateName(state)));
  }

  void waitForAnswer(uint64_t id) {
    runUntil([&] { return observer_.answered(id); }, "an answer to query " + std::to_string(id));
  }

  void ask(uint64_t id, const std::string& prompt, bool stream = false, uint64_t timeout_ms = 0) {
    session_->query(msg::Query{id, "s", prompt, stream, timeout_ms, 7});
  }

  std::string answer(uint64_t id) {
    const auto* r = observer_.result(id);
    if (r != nullptr) return r->text;
    const auto* e = observer_.error(id);
    return e != nullptr ? "error " + e->code + ": " + e->message : "<no answer>";
  }

  RecordingObserver observer_;        // what the session reported
  std::unique_ptr<Session> session_;  // the session under test
};

TEST_F(SessionTest, AcksTheSpawnAndAnswersAfterInitialize) {
  make().start(1);
  ASSERT_EQ(observer_.acks.size(), 1u);
  EXPECT_EQ(observer_.acks[0].id, 1u);
  EXPECT_EQ(observer_.acks[0].state, "starting");
  EXPECT_EQ(observer_.acks[0].generation, 7u);
  EXPECT_EQ(observer_.acks[0].worker, "w-test");
  ask(2, "hello");  // queued until the CLI answers initialize
  waitForAnswer(2);
  EXPECT_EQ(answer(2), "turn 1: hello");
  EXPECT_EQ(observer_.delivered, std::vector<uint64_t>{2});
  EXPECT_EQ(observer_.result(2)->session_id, session_->update().session_id);
  EXPECT_EQ(observer_.result(2)->worker, "w-test");
  EXPECT_EQ(session_->update().turns, 1u);
  EXPECT_EQ(session_->state(), SessionState::kIdle);
  std::vector<std::string> states;
  for (const auto& u : observer_.updates) {
    if (states.empty() || states.back() != u.state) states.push_back(u.state);
  }
  EXPECT_EQ(states, (std::vector<std::string>{"starting", "idle", "busy", "idle"}));
  EXPECT_GT(observer_.updates.back().pid, 0);
}

TEST_F(SessionTest, StreamsDeltasThatJoinToTheAnswer) {
  make().start(0);
  ask(1, "stream me please", /*stream=*/true);
  waitForAnswer(1);
  ASSERT_NE(observer_.result(1), nullptr);
  std::string joined;
  for (std::size_t i = 0; i < observer_.events.size(); ++i) {
    EXPECT_EQ(observer_.events[i].id, 1u);
    EXPECT_EQ(observer_.events[i].seq, i);
    EXPECT_EQ(observer_.events[i].kind, "delta");
    joined += observer_.events[i].text;
  }
  EXPECT_GE(observer_.events.size(), 2u);
  EXPECT_EQ(joined, observer_.result(1)->text);
}

TEST_F(SessionTest, RunsPromptsInOrderAndAnswersBusyWhenTheQueueIsFull) {
  make().start(0);
  waitForState(SessionState::kIdle);
  ask(1, "/hang");
  runUntil([&] { return !observer_.delivered.empty(); }, "delivery of /hang");
  ask(2, "second");
  ask(3, "third");
  ask(4, "fourth");  // queue depth is 2
  ASSERT_NE(observer_.error(4), nullptr);
  EXPECT_EQ(observer_.error(4)->code, "busy");
  EXPECT_EQ(session_->queueDepth(), 3u);
  EXPECT_TRUE(session_->cancel(1));
  ASSERT_NE(observer_.error(1), nullptr);
  EXPECT_EQ(observer_.error(1)->code, "cancelled");
  waitForAnswer(3);
  EXPECT_EQ(answer(2), "turn 2: second");
  EXPECT_EQ(answer(3), "turn 3: third");
  EXPECT_EQ(observer_.delivered, (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(SessionTest, TimeoutInterruptsSoTheNextPromptGetsItsOwnAnswer) {
  make().start(0);
  waitForState(SessionState::kIdle);
  ask(1, "/hang", false, /*timeout_ms=*/1000);
  ask(2, "next");
  runUntil([&] { return !observer_.delivered.empty(); }, "delivery of /hang");
  clock_.advance(Millis(1001));
  session_->onTimer();
  ASSERT_NE(observer_.error(1), nullptr);
  EXPECT_EQ(observer_.error(1)->code, "timeout");
  waitForAnswer(2);
  EXPECT_EQ(answer(2), "turn 2: next");
  EXPECT_EQ(session_->update().restarts, 0u) << "the interrupt worked; no restart needed";
}

TEST_F(SessionTest, AnswersTheCliPermissionRequestSoTheTurnEnds) {
  make().start(0);
  ask(1, R"(/tool Bash {"command":"ls"})");
  waitForAnswer(1);
  EXPECT_EQ(answer(1),
            "tool Bash denied: ccmesh: this session answers no permission prompts; allow Bash "
            "with allowed_tools, permission_mode or permission_handler");
  EXPECT_EQ(session_->state(), SessionState::kIdle);
  ASSERT_EQ(observer_.decisions.size(), 1u);
  EXPECT_EQ(observer_.decisions[0].decided_by, "handler deny");
  EXPECT_TRUE(observer_.questions.empty());
}

TEST_F(SessionTest, AsksTheClientAndRunsItsAnswer) {
  SessionOptions options;
  options.permission_handler = "client";
  make(options).start(0);
  ask(1, R"(/tool Bash {"command":"ls"})");
  runUntil([&] { return !observer_.questions.empty(); }, "the question");
  const msg::PermissionRequest question = observer_.questions[0];
  EXPECT_EQ(question.id, 1u);
  EXPECT_EQ(question.session, "s");
  EXPECT_EQ(question.tool_name, "Bash");
  EXPECT_EQ(question.input, R"({"command":"ls"})");
  EXPECT_EQ(question.timeout_ms, SessionOptions::kDefaultPermissionTimeoutMs);
  // An answer for another query, or another question, is not this one's.
  session_->onPermissionReply(msg::PermissionReply{2, question.request, "allow", {}, {}, "x"});
  session_->onPermissionReply(msg::PermissionReply{1, "other", "allow", {}, {}, "x"});
  EXPECT_TRUE(observer_.decisions.empty());
  session_->onPermissionReply(
      msg::PermissionReply{1, question.request, "allow", R"({"command":"pwd"})", {}, "alice"});
  waitForAnswer(1);
  EXPECT_EQ(answer(1), R"(tool Bash allowed: {"command":"pwd"})");
  ASSERT_EQ(observer_.decisions.size(), 1u);
  EXPECT_EQ(observer_.decisions[0].behavior, "allow");
  EXPECT_EQ(observer_.decisions[0].decided_by, "client alice");
  EXPECT_EQ(observer_.decisions[0].id, 1u);
}

TEST_F(SessionTest, AnUnansweredQuestionIsDeniedAtItsTimeout) {
  SessionOptions options;
  options.permission_handler = "client";
  options.permission_timeout_ms = 5000;
  make(options).start(0);
  ask(1, "/tool Bash ls");
  runUntil([&] { return !observer_.questions.empty(); }, "the question");
  ASSERT_TRUE(session_->nextDeadline().has_value());
  clock_.advance(Millis(4999));
  session_->onTimer();
  EXPECT_TRUE(observer_.decisions.empty());
  clock_.advance(Millis(2));
  session_->onTimer();
  ASSERT_EQ(observer_.decisions.size(), 1u);
  EXPECT_EQ(observer_.decisions[0].decided_by, "timeout");
  waitForAnswer(1);
  EXPECT_EQ(answer(1), "tool Bash denied: ccmesh: nobody answered whether Bash may run");
}

TEST_F(SessionTest, CancellingTheQueryDeniesItsQuestion) {
  SessionOptions options;
  options.permission_handler = "client";
  make(options).start(0);
  ask(1, "/tool Bash ls");
  runUntil([&] { return !observer_.questions.empty(); }, "the question");
  EXPECT_TRUE(session_->cancel(1));
  ASSERT_EQ(observer_.decisions.size(), 1u);
  EXPECT_EQ(observer_.decisions[0].decided_by, "cancelled");
  EXPECT_EQ(observer_.decisions[0].behavior, "deny");
  ask(2, "next");
  waitForAnswer(2);
  EXPECT_EQ(answer(2), "turn 2: next");
}

TEST_F(SessionTest, PolicyRulesDecideWithoutAsking) {
  SessionOptions options;
  options.permission_handler = "policy";
  options.permission_rules = {"allow:Bash(ls:*)"};
  make(options).start(0);
  ask(1, "/tool Bash ls -la");
  waitForAnswer(1);
  EXPECT_EQ(answer(1), R"(tool Bash allowed: {"command":"ls -la"})");
  ask(2, "/tool Bash rm x");
  waitForAnswer(2);
  EXPECT_EQ(answer(2), "tool Bash denied: ccmesh: no rule of this session allows Bash");
  ASSERT_EQ(observer_.decisions.size(), 2u);
  EXPECT_EQ(observer_.decisions[0].decided_by, "policy allow:Bash(ls:*)");
  EXPECT_EQ(observer_.decisions[1].decided_by, "policy");
  EXPECT_TRUE(observer_.questions.empty());
}

TEST_F(SessionTest, QueuedPromptTimesOutBeforeItStarts) {
  make().start(0);
  waitForState(SessionState::kIdle);
  ask(1, "/hang", false, 60000);
  ask(2, "never runs", false, 500);
  runUntil([&] { return !observer_.delivered.empty(); }, "delivery of /hang");
  clock_.advance(Millis(501));
  session_->onTimer();
  ASSERT_NE(observer_.error(2), nullptr);
  EXPECT_EQ(observer_.error(2)->code, "timeout");
  EXPECT_FALSE(observer_.answered(1));
  EXPECT_EQ(session_->queueDepth(), 1u);
}

TEST_F(SessionTest, CrashEndsTheTurnAndTheRestartKeepsHistory) {
  make().start(0);
  ask(1, "one");
  waitForAnswer(1);
  ask(2, "/crash", /*stream=*/true);
  ask(3, "/history");  // waits for the restart
  waitForAnswer(2);
  ASSERT_NE(observer_.error(2), nullptr);
  EXPECT_EQ(observer_.error(2)->code, "session_crashed");
  EXPECT_EQ(observer_.error(2)->partial, "partial before crash");
  EXPECT_NE(observer_.error(2)->message.find("exit status 3"), std::string::npos);
  EXPECT_NE(observer_.error(2)->message.find("crashing as asked"), std::string::npos);
  EXPECT_EQ(session_->state(), SessionState::kRestarting);
  clock_.advance(Millis(100));  // the first backoff
  waitForAnswer(3);
  EXPECT_EQ(answer(3), "one | /crash");
  EXPECT_EQ(session_->update().restarts, 1u);
}

TEST_F(SessionTest, FailsAfterTooManyCrashesUntilRestarted) {
  SessionOptions options;
  options.max_restarts = 1;
  make(options).start(0);
  ask(1, "/crash");
  waitForAnswer(1);
  clock_.advance(Millis(100));
  ask(2, "/crash");
  waitForAnswer(2);
  EXPECT_EQ(session_->state(), SessionState::kFailed);
  ask(3, "hello");
  ASSERT_NE(observer_.error(3), nullptr);
  EXPECT_EQ(observer_.error(3)->code, "session_failed");
  EXPECT_NE(observer_.error(3)->message.find("exit status 3"), std::string::npos);
  session_->restart(4, /*keep_history=*/false);
  ASSERT_FALSE(observer_.acks.empty());
  EXPECT_EQ(observer_.acks.back().id, 4u);
  ask(5, "hello again");
  waitForAnswer(5);
  EXPECT_EQ(answer(5), "turn 1: hello again");
  EXPECT_EQ(session_->update().restarts, 0u);
}

TEST_F(SessionTest, TerminateCancelsEverythingAndAcksStopped) {
  make().start(0);
  waitForState(SessionState::kIdle);
  ask(1, "/hang");
  ask(2, "queued");
  runUntil([&] { return !observer_.delivered.empty(); }, "delivery of /hang");
  session_->terminate(9, "session terminated");
  ASSERT_NE(observer_.error(1), nullptr);
  EXPECT_EQ(observer_.error(1)->code, "cancelled");
  ASSERT_NE(observer_.error(2), nullptr);
  EXPECT_EQ(observer_.error(2)->code, "cancelled");
  EXPECT_EQ(session_->state(), SessionState::kStopping);
  waitForState(SessionState::kStopped);
  ASSERT_FALSE(observer_.acks.empty());
  EXPECT_EQ(observer_.acks.back().id, 9u);
  EXPECT_EQ(observer_.acks.back().state, "stopped");
  EXPECT_TRUE(session_->finished());
  EXPECT_EQ(observer_.updates.back().state, "stopped");
}

TEST_F(SessionTest, StopEscalatesToSigtermThenSigkill) {
  // A CLI that outlives the end of its stdin and survives SIGTERM (saying so on stderr).
  const auto script = home_ / "stubborn-cli.sh";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\n"
           "trap 'echo got-term >&2' TERM\n"
           "read line\n"
           "echo '{\"type\":\"control_response\",\"response\":{\"subtype\":\"success\","
           "\"request_id\":\"init_1\",\"response\":{}}}'\n"
           "while :; do sleep 0.05; done\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  context_.cli.program = script.string();
  make().start(0);
  waitForState(SessionState::kIdle);
  session_->terminate(5, "session terminated");
  EXPECT_EQ(session_->state(), SessionState::kStopping);
  clock_.advance(context_.stop_grace);
  session_->onTimer();  // SIGTERM to the group
  runUntil(
      [&] {
        const auto& tail = session_->stderrTail();
        return std::find(tail.begin(), tail.end(), "got-term") != tail.end();
      },
      "the CLI to report SIGTERM");
  EXPECT_EQ(session_->state(), SessionState::kStopping);
  clock_.advance(CliProcess::kTermGrace);
  session_->onTimer();  // SIGKILL to the group
  waitForState(SessionState::kStopped);
  ASSERT_FALSE(observer_.acks.empty());
  EXPECT_EQ(observer_.acks.back().id, 5u);
  EXPECT_EQ(observer_.acks.back().state, "stopped");
}

TEST_F(SessionTest, RestartStartsAFreshConversationUnlessKeepingHistory) {
  make().start(0);
  ask(1, "remember me");
  waitForAnswer(1);
  const std::string first_id = session_->update().session_id;
  session_->restart(2, /*keep_history=*/true);
  waitForState(SessionState::kIdle);
  ask(3, "/history");
  waitForAnswer(3);
  EXPECT_EQ(answer(3), "remember me");
  EXPECT_EQ(session_->update().session_id, first_id);
  session_->restart(4, /*keep_history=*/false);
  waitForState(SessionState::kIdle);
  ask(5, "/history");
  waitForAnswer(5);
  EXPECT_EQ(answer(5), "(none)");
  EXPECT_NE(session_->update().session_id, first_id);
  ASSERT_GE(observer_.acks.size(), 2u);
  EXPECT_EQ(observer_.acks[0].id, 2u);
  EXPECT_EQ(observer_.acks[1].id, 4u);
}

TEST_F(SessionTest, SpawnFailureAnswersInternalAndFails) {
  context_.cli.program = "/nonexistent/claude";
  make().start(1);
  ASSERT_NE(observer_.error(1), nullptr);
  EXPECT_EQ(observer_.error(1)->code, "internal");
  EXPECT_NE(observer_.error(1)->message.find("cannot start CLI /nonexistent/claude"),
            std::string::npos);
  EXPECT_EQ(session_->state(), SessionState::kFailed);
  EXPECT_TRUE(observer_.acks.empty());
}

}  // namespace
}  // namespace ccmesh::worker
