// The broker as clients see it, driven in-process over inproc with a ManualClock.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "broker_peer.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/version.hpp"

namespace ccmesh::broker::testing {
namespace {

using namespace std::chrono_literals;

class BrokerTest : public BrokerFixture {};

// A query whose session field has the wrong type.
struct BadQuery {
  uint64_t id = 42;
  int session = 5;
  MSGPACK_DEFINE_MAP(id, session)
};

TEST_F(BrokerTest, AnswersPingWithVersion) {
  startBroker();
  auto peer = client();
  clock_.advance(1500ms);
  auto reply = ask(*peer, MessageType::kPing, msg::Plain{7});
  ASSERT_EQ(reply.type, MessageType::kResult);
  auto ping = reply.as<msg::PingResult>();
  EXPECT_EQ(ping.id, 7u);
  EXPECT_EQ(ping.version, ccmesh::kVersion);
  EXPECT_EQ(ping.uptime_ms, 1500u);
}

TEST_F(BrokerTest, AnswersGarbageWithErrorsAndKeepsServing) {
  startBroker();
  auto peer = client();
  peer->sendFrames({"XXXX", "ping", "zz"});
  EXPECT_EQ(peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>().code,
            "version_mismatch");
  peer->sendFrames({"CCM1", "ping", "\xc1"});
  EXPECT_EQ(peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>().code, "bad_request");
  peer->sendFrames({"CCM1", "nonsense", "\x80"});
  EXPECT_EQ(peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>().code, "bad_request");
  peer->sendFrames({"CCM1"});
  EXPECT_EQ(peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>().code, "bad_request");
  peer->sendFrames({"CCM1", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"});
  EXPECT_EQ(peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>().code, "bad_request");
  // A readable id is echoed even when a field has the wrong type.
  auto bad = ask(*peer, MessageType::kQuery, BadQuery{});
  EXPECT_EQ(bad.as<msg::ErrorReply>().id, 42u);
  EXPECT_EQ(bad.as<msg::ErrorReply>().code, "bad_request");
  // A worker-only message type on the frontend.
  EXPECT_EQ(ask(*peer, MessageType::kReady, msg::Plain{3}).as<msg::ErrorReply>().code,
            "bad_request");

  auto status = ask(*peer, MessageType::kStatus, msg::Plain{9});
  ASSERT_EQ(status.type, MessageType::kResult);
  EXPECT_EQ(status.as<msg::StatusResult>().malformed_messages, 7u);
  EXPECT_EQ(broker_->stats().malformed_messages, 7u);
}

// The body of a ping, packed: the id a refusal must carry.
std::string pingBody(uint64_t id) {
  auto body = encodeBody(msg::Plain{id});
  return std::string(body.data(), body.size());
}

TEST_F(BrokerTest, RefusalsOfAReadableBodyCarryItsId) {
  startBroker();
  auto peer = client();
  peer->sendFrames({"CCM1", "frobnicate", pingBody(8)});
  auto unknown = peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(unknown.code, "bad_request");
  EXPECT_EQ(unknown.id, 8u);
  peer->sendFrames({"CCM9", "ping", pingBody(9)});
  auto version = peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(version.code, "version_mismatch");
  EXPECT_EQ(version.id, 9u);
}

// A message is exactly three frames: two, four, or more than the receive bound of eight are
// all refused with id 0 (which frame would be the body is unknown), and the broker goes on.
TEST_F(BrokerTest, AMessageOfAnyOtherFrameCountIsRefusedWithIdZero) {
  startBroker();
  auto peer = client();
  const std::vector<std::vector<std::string>> shapes{
      {"CCM1", "ping"},
      {"CCM1", "ping", pingBody(3), pingBody(3)},
      {"CCM1", "ping", pingBody(3), "a", "b", "c", "d", "e", "f", "g", "h"}};
  for (const auto& frames : shapes) {
    peer->sendFrames(frames);
    auto refused = peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
    EXPECT_EQ(refused.code, "bad_request") << frames.size() << " frames";
    EXPECT_EQ(refused.id, 0u) << frames.size() << " frames";
  }
  EXPECT_EQ(ask(*peer, MessageType::kPing, msg::Plain{4}).as<msg::PingResult>().id, 4u);
}

TEST_F(BrokerTest, RejectsBadNamesLongPromptsAndUnknownSessions) {
  config_.max_prompt_bytes = 10;
  startBroker();
  auto peer = client();
  auto bad_name = ask(*peer, MessageType::kQuery, msg::Query{1, "-bad", "hi"});
  EXPECT_EQ(bad_name.as<msg::ErrorReply>().code, "bad_request");
  auto early = ask(*peer, MessageType::kQuery, msg::Query{2, "nobody", "hi"});
  EXPECT_EQ(early.as<msg::ErrorReply>().code, "unavailable")
      << "before any worker has connected the broker cannot know every name";
  auto worker = joinWorker("w1", 4);
  auto unknown = ask(*peer, MessageType::kQuery, msg::Query{12, "nobody", "hi"});
  EXPECT_EQ(unknown.as<msg::ErrorReply>().code, "not_found");
  EXPECT_EQ(unknown.as<msg::ErrorReply>().id, 12u);
  peer->send(MessageType::kStart, msg::Start{3, "s", {}});
  worker->expect(*broker_, MessageType::kAssign);
  auto too_long = ask(*peer, MessageType::kQuery, msg::Query{4, "s", "01234567890"});
  EXPECT_EQ(too_long.as<msg::ErrorReply>().code, "bad_request");
  EXPECT_NE(too_long.as<msg::ErrorReply>().message.find("10"), std::string::npos)
      << "the message names the limit";
  SessionOptions bad_options;
  bad_options.permission_mode = "yolo";
  auto invalid = ask(*peer, MessageType::kStart, msg::Start{5, "t", bad_options});
  EXPECT_EQ(invalid.as<msg::ErrorReply>().code, "bad_request");
  auto twice = ask(*peer, MessageType::kStart, msg::Start{6, "s", {}});
  EXPECT_EQ(twice.as<msg::ErrorReply>().code, "already_exists");
}

TEST_F(BrokerTest, StartWithoutWorkersIsPendingThenPlacedWhenOneJoins) {
  startBroker();
  auto peer = client();
  auto ack = ask(*peer, MessageType::kStart, msg::Start{3, "s1", {}}).as<msg::Ack>();
  EXPECT_EQ(ack.id, 3u);
  EXPECT_EQ(ack.state, "pending");
  EXPECT_EQ(ack.worker, "");

  auto worker = joinWorker("w1", 4);
  auto assign = worker->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(assign.id, 0u) << "nobody waits for this placement";
  EXPECT_EQ(assign.session, "s1");
  EXPECT_EQ(assign.generation, 1u);
  auto info = ask(*peer, MessageType::kInfo, msg::Info{4, "s1"}).as<msg::InfoResult>();
  EXPECT_EQ(info.session.worker, "w1");
  EXPECT_EQ(info.session.state, "starting");
}

TEST_F(BrokerTest, PlacesSessionsFromTheSessionsFileWhenWorkersJoin) {
  startBroker();
  broker_->addSessions({{"a", {}}, {"b", {}}, {"c", {}}});
  EXPECT_EQ(broker_->sessions().pendingCount(), 3u);
  auto w1 = joinWorker("w1", 2);
  auto first = w1->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  auto second = w1->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_EQ(first.session, "a");
  EXPECT_EQ(second.session, "b");
  w1->expectSilence(*broker_);
  EXPECT_EQ(broker_->sessions().pendingCount(), 1u) << "w1 is full";
  auto w2 = joinWorker("w2", 2);
  EXPECT_EQ(w2->expect(*broker_, MessageType::kAssign).as<msg::Assign>().session, "c");
}

TEST_F(BrokerTest, RelaysStartAndStreamingQueryWithClientIdsRestored) {
  startBroker();
  auto worker = joinWorker("w1", 4);
  auto peer = client();
  peer->send(MessageType::kStart, msg::Start{3, "s1", {}});
  auto assign = worker->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  EXPECT_NE(assign.id, 0u);
  EXPECT_EQ(assign.generation, 1u);
  worker->send(MessageType::kResult, msg::Ack{assign.id, "s1", "w1", 1, "idle"});
  auto ack = peer->expect(*broker_, MessageType::kResult).as<msg::Ack>();
  EXPECT_EQ(ack.id, 3u);
  EXPECT_EQ(ack.state, "idle");
  EXPECT_EQ(ack.worker, "w1");

  peer->send(MessageType::kQuery, msg::Query{7, "s1", "hello", true, 0});
  auto query = worker->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_NE(query.id, 7u);
  EXPECT_EQ(query.generation, 1u);
  EXPECT_EQ(query.prompt, "hello");
  EXPECT_EQ(query.timeout_ms, 0u) << "0 lets the worker apply its defaults";
  worker->send(MessageType::kDelivered, msg::Delivered{query.id});
  worker->send(MessageType::kEvent, msg::Event{query.id, 0, "delta", "Hel"});
  worker->send(MessageType::kEvent, msg::Event{query.id, 1, "delta", "lo"});
  worker->send(MessageType::kResult,
               msg::QueryResult{query.id, "s1", "Hello", "uuid", "w1", 5, 0.5, 1, 2});
  auto e0 = peer->expect(*broker_, MessageType::kEvent).as<msg::Event>();
  auto e1 = peer->expect(*broker_, MessageType::kEvent).as<msg::Event>();
  EXPECT_EQ(e0.id, 7u);
  EXPECT_EQ(e0.seq, 0u);
  EXPECT_EQ(e0.text, "Hel");
  EXPECT_EQ(e1.seq, 1u);
  auto result = peer->expect(*broker_, MessageType::kResult).as<msg::QueryResult>();
  EXPECT_EQ(result.id, 7u);
  EXPECT_EQ(result.text, "Hello");
  EXPECT_EQ(result.session_id, "uuid");
  EXPECT_DOUBLE_EQ(result.cost_usd, 0.5);
  EXPECT_EQ(broker_->requests().size(), 0u);
  // A late duplicate from the worker is dropped, not relayed.
  worker->send(MessageType::kResult, answer(query.id, "s1", "again"));
  peer->expectSilence(*broker_);
  EXPECT_GE(broker_->stats().stale_messages, 1u);
}

// A worker's event is read in place: the client's copy is the worker's body with only the
// id replaced (keys the broker does not know stay), and a malformed one is still refused.
TEST_F(BrokerTest, RelaysAnEventWithOnlyItsIdReplacedAndRefusesAMalformedOne) {
  startBroker();
  broker_->addSessions({{"s", {}}});
  auto worker = joinWorker("w1", 4);
  worker->expect(*broker_, MessageType::kAssign);
  auto peer = client();
  peer->send(MessageType::kQuery, msg::Query{7, "s", "hello", true, 0});
  const uint64_t id = worker->expect(*broker_, MessageType::kQuery).as<msg::Query>().id;
  // What the broker could not have re-encoded the same: a wide id, a key it does not know.
  auto event = [&](const std::function<void(msgpack::packer<msgpack::sbuffer>&)>& text) {
    msgpack::sbuffer body;
    msgpack::packer<msgpack::sbuffer> packer(body);
    packer.pack_map(5);
    packer.pack(std::string_view("kind"));
    packer.pack(std::string_view("delta"));
    packer.pack(std::string_view("id"));
    packer.pack_fix_uint64(id);
    packer.pack(std::string_view("seq"));
    packer.pack(0);
    packer.pack(std::string_view("future"));
    packer.pack(std::vector<int>{1, 2});
    packer.pack(std::string_view("text"));
    text(packer);
    return std::string(body.data(), body.size());
  };
  const uint64_t malformed_before = broker_->stats().malformed_messages;
  worker->sendFrames({"CCM1", "event", event([](auto& p) {
                        p.pack_bin(3);
                        p.pack_bin_body("Hel", 3);
                      })});
  const auto refused = worker->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(refused.code, "bad_request");
  EXPECT_EQ(refused.id, id);
  EXPECT_EQ(broker_->stats().malformed_messages, malformed_before + 1);
  worker->sendFrames({"CCM1", "event", event([](auto& p) { p.pack(std::string_view("Hel")); })});
  const auto relayed = peer->expect(*broker_, MessageType::kEvent);
  const auto fields = relayed.as<std::map<std::string, msgpack::object>>();
  EXPECT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields.at("id").as<uint64_t>(), 7u);
  EXPECT_EQ(fields.at("text").as<std::string>(), "Hel");
  EXPECT_EQ(fields.at("future").as<std::vector<int>>(), (std::vector<int>{1, 2}));
  worker->send(MessageType::kResult, answer(id, "s", "Hel"));
  EXPECT_EQ(peer->expect(*broker_, MessageType::kResult).as<msg::QueryResult>().text, "Hel");
}

// A client's query is read in place: what decoding accepts runs (keys the broker does not
// know are ignored), what it refuses is still answered as before, and a reused id is
// refused while the first request runs.
TEST_F(BrokerTest, ReadsAQueryInPlaceAndAnswersOneItCannotReadAsBefore) {
  startBroker();
  broker_->addSessions({{"s", {}}});
  auto worker = joinWorker("w1", 4);
  worker->expect(*broker_, MessageType::kAssign);
  auto peer = client();
  auto query = [](uint64_t id,
                  const std::function<void(msgpack::packer<msgpack::sbuffer>&)>& stream) {
    return bodyOf({{"future",
                    [](auto& p) {
                      p.pack(std::vector<int>{1, 2});
                    }},
                   {"prompt", [](auto& p) { p.pack(std::string(300, 'p')); }},  // a str16
                   {"id", [id](auto& p) { p.pack_fix_uint32(static_cast<uint32_t>(id)); }},
                   {"stream", stream},
                   {"session", [](auto& p) { p.pack(std::string_view("s")); }},
                   {"timeout_ms", [](auto& p) { p.pack_fix_int16(5000); }}});
  };
  peer->sendFrames({"CCM1", "query", query(7, [](auto& p) { p.pack(true); })});
  const auto forwarded = worker->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_EQ(forwarded.session, "s");
  EXPECT_EQ(forwarded.prompt, std::string(300, 'p'));
  EXPECT_TRUE(forwarded.stream);
  EXPECT_GT(forwarded.timeout_ms, 0u);
  EXPECT_LE(forwarded.timeout_ms, 5000u) << "what is left of the client's deadline";
  EXPECT_EQ(forwarded.generation, 1u);

  const auto reused = ask(*peer, MessageType::kQuery, msg::Query{7, "s", "again"});
  EXPECT_EQ(reused.as<msg::ErrorReply>().code, "duplicate_id");
  EXPECT_EQ(reused.as<msg::ErrorReply>().id, 7u);

  // What decoding refuses gets the answer it always got, with the request's id.
  const uint64_t malformed_before = broker_->stats().malformed_messages;
  auto refused = [&](const std::string& body) {
    peer->sendFrames({"CCM1", "query", body});
    auto reply = peer->next(*broker_);
    if (!reply) throw std::runtime_error("no reply to a malformed query");
    return reply->as<msg::ErrorReply>();
  };
  const auto not_bool = refused(query(8, [](auto& p) { p.pack(1); }));
  EXPECT_EQ(not_bool.code, "bad_request");
  EXPECT_EQ(not_bool.id, 8u);
  const auto bad_generation = refused(bodyOf({{"id", [](auto& p) { p.pack(9); }},
                                              {"session", [](auto& p) { p.pack("s"); }},
                                              {"generation", [](auto& p) { p.pack(-1); }}}));
  EXPECT_EQ(bad_generation.code, "bad_request");
  EXPECT_EQ(bad_generation.id, 9u);
  const auto twice = refused(bodyOf({{"id", [](auto& p) { p.pack(10); }},
                                     {"session", [](auto& p) { p.pack("nobody"); }},
                                     {"session", [](auto& p) { p.pack("nobody2"); }}}));
  EXPECT_EQ(twice.code, "not_found") << "a repeated key is decoded";
  EXPECT_EQ(twice.id, 10u);
  const auto no_id = refused(bodyOf({{"session", [](auto& p) { p.pack("s"); }}}));
  EXPECT_EQ(no_id.code, "bad_request");
  EXPECT_NE(no_id.message.find("non-zero"), std::string::npos) << no_id.message;
  EXPECT_EQ(broker_->stats().malformed_messages, malformed_before + 3);
  const auto bad_name = refused(
      bodyOf({{"id", [](auto& p) { p.pack(11); }}, {"session", [](auto& p) { p.pack("-s"); }}}));
  EXPECT_EQ(bad_name.code, "bad_request");
  EXPECT_EQ(bad_name.id, 11u);
  worker->expectSilence(*broker_);  // only the first query reached the worker
}

TEST_F(BrokerTest, RelaysEventsOnlyToStreamingQueries) {
  startBroker();
  broker_->addSessions({{"s", {}}});
  auto worker = joinWorker("w1", 4);
  worker->expect(*broker_, MessageType::kAssign);
  auto peer = client();
  peer->send(MessageType::kQuery, msg::Query{7, "s", "hello", false, 0});
  auto query = worker->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_FALSE(query.stream);
  worker->send(MessageType::kEvent, msg::Event{query.id, 0, "delta", "Hel"});
  worker->send(MessageType::kResult, answer(query.id, "s", "Hello"));
  auto result = peer->expect(*broker_, MessageType::kResult).as<msg::QueryResult>();
  EXPECT_EQ(result.id, 7u);
  EXPECT_EQ(result.text, "Hello");
}

TEST_F(BrokerTest, QueryWaitsForAWorkerThenEndsUnavailable) {
  config_.pending_timeout = 60s;
  startBroker();
  auto peer = client();
  ask(*peer, MessageType::kStart, msg::Start{1, "s", {}});
  peer->send(MessageType::kQuery, msg::Query{2, "s", "hi", false, 500});
  peer->send(MessageType::kQuery, msg::Query{3, "s", "hi", false, 0});
  peer->expectSilence(*broker_);
  auto info = ask(*peer, MessageType::kInfo, msg::Info{4, "s"}).as<msg::InfoResult>();
  EXPECT_EQ(info.session.queue_depth, 2u);
  clock_.advance(501ms);
  auto first = peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(first.id, 2u);
  EXPECT_EQ(first.code, "unavailable");
  peer->expectSilence(*broker_);
  clock_.advance(60s);
  auto second = peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(second.id, 3u);
  EXPECT_EQ(second.code, "unavailable");
}

TEST_F(BrokerTest, QueuedQueriesFollowTheirSessionInOrderWhenAWorkerJoins) {
  startBroker();
  auto peer = client();
  ask(*peer, MessageType::kStart, msg::Start{1, "s", {}});
  peer->send(MessageType::kQuery, msg::Query{2, "s", "first", false, 10000});
  peer->send(MessageType::kQuery, msg::Query{3, "s", "second"});
  peer->expectSilence(*broker_);
  clock_.advance(4000ms);
  auto worker = joinWorker("w1", 1);
  worker->expect(*broker_, MessageType::kAssign);
  auto q1 = worker->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  auto q2 = worker->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  EXPECT_EQ(q1.prompt, "first");
  EXPECT_EQ(q1.timeout_ms, 6000u) << "the deadline runs from receipt";
  EXPECT_EQ(q2.prompt, "second");
  EXPECT_EQ(q2.timeout_ms, 0u);
  EXPECT_EQ(q1.generation, 1u);
}

TEST_F(BrokerTest, FullPendingQueueAnswersBusy) {
  config_.pending_limit = 2;
  startBroker();
  auto peer = client();
  ask(*peer, MessageType::kStart, msg::Start{1, "s", {}});
  peer->send(MessageType::kQuery, msg::Query{2, "s", "a"});
  peer->send(MessageType::kQuery, msg::Query{3, "s", "b"});
  auto busy = ask(*peer, MessageType::kQuery, msg::Query{4, "s", "c"}).as<msg::ErrorReply>();
  EXPECT_EQ(busy.id, 4u);
  EXPECT_EQ(busy.code, "busy");
}

TEST_F(BrokerTest, CancelEndsAWaitingQueryAndIsForwardedForARunningOne) {
  startBroker();
  auto peer = client();
  ask(*peer, MessageType::kStart, msg::Start{1, "s", {}});
  peer->send(MessageType::kQuery, msg::Query{2, "s", "a"});
  peer->send(MessageType::kCancel, msg::Cancel{2});
  auto cancelled = peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(cancelled.id, 2u);
  EXPECT_EQ(cancelled.code, "cancelled");
  peer->send(MessageType::kCancel, msg::Cancel{99});  // unknown: ignored
  peer->expectSilence(*broker_);

  auto worker = joinWorker("w1", 1);
  worker->expect(*broker_, MessageType::kAssign);
  peer->send(MessageType::kQuery, msg::Query{5, "s", "b"});
  auto query = worker->expect(*broker_, MessageType::kQuery).as<msg::Query>();
  peer->send(MessageType::kCancel, msg::Cancel{5});
  EXPECT_EQ(worker->expect(*broker_, MessageType::kCancel).as<msg::Cancel>().id, query.id);
  worker->send(MessageType::kError,
               msg::ErrorReply{query.id, "cancelled", "by client", "par", "s"});
  auto relayed = peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(relayed.id, 5u);
  EXPECT_EQ(relayed.code, "cancelled");
  EXPECT_EQ(relayed.partial, "par");
}

TEST_F(BrokerTest, TerminateForgetsTheNameOnTheWorkersAck) {
  startBroker();
  auto worker = joinWorker("w1", 2);
  auto peer = client();
  peer->send(MessageType::kStart, msg::Start{1, "s", {}});
  auto assign = worker->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  worker->send(MessageType::kResult, msg::Ack{assign.id, "s", "w1", 1, "idle"});
  peer->expect(*broker_, MessageType::kResult);

  peer->send(MessageType::kTerminate, msg::Terminate{2, "s"});
  auto terminate = worker->expect(*broker_, MessageType::kTerminate).as<msg::Terminate>();
  EXPECT_EQ(terminate.generation, 1u);
  auto info = ask(*peer, MessageType::kInfo, msg::Info{3, "s"}).as<msg::InfoResult>();
  EXPECT_EQ(info.session.state, "stopping");
  EXPECT_EQ(ask(*peer, MessageType::kQuery, msg::Query{4, "s", "x"}).as<msg::ErrorReply>().code,
            "not_found");
  worker->send(MessageType::kResult, msg::Ack{terminate.id, "s", "w1", 1, "stopped"});
  auto ack = peer->expect(*broker_, MessageType::kResult).as<msg::Ack>();
  EXPECT_EQ(ack.id, 2u);
  EXPECT_EQ(ack.state, "stopped");
  EXPECT_EQ(ask(*peer, MessageType::kInfo, msg::Info{5, "s"}).as<msg::ErrorReply>().code,
            "not_found");
  peer->send(MessageType::kStart, msg::Start{6, "s", {}});
  EXPECT_EQ(worker->expect(*broker_, MessageType::kAssign).as<msg::Assign>().session, "s")
      << "the name is free again";
}

TEST_F(BrokerTest, TerminateOfAPendingSessionAnswersAtOnce) {
  startBroker();
  auto peer = client();
  ask(*peer, MessageType::kStart, msg::Start{1, "s", {}});
  peer->send(MessageType::kQuery, msg::Query{2, "s", "a"});
  peer->send(MessageType::kTerminate, msg::Terminate{3, "s"});
  auto cancelled = peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(cancelled.id, 2u);
  auto ack = peer->expect(*broker_, MessageType::kResult).as<msg::Ack>();
  EXPECT_EQ(ack.id, 3u);
  EXPECT_EQ(ack.state, "stopped");
  EXPECT_EQ(broker_->sessions().size(), 0u);
}

TEST_F(BrokerTest, FailedStartFreesTheName) {
  startBroker();
  auto worker = joinWorker("w1", 2);
  auto peer = client();
  peer->send(MessageType::kStart, msg::Start{1, "s", {}});
  auto assign = worker->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  worker->send(MessageType::kError,
               msg::ErrorReply{assign.id, "bad_request", "option cwd: missing", "", "s"});
  auto error = peer->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(error.id, 1u);
  EXPECT_EQ(error.code, "bad_request");
  EXPECT_EQ(broker_->sessions().size(), 0u);
}

// WorkerInfo `sessions` is how many sessions are placed on a worker: a number on the wire,
// as docs/PROTOCOL.md says (a client in another language reads it as such).
TEST_F(BrokerTest, StatusCountsTheSessionsPlacedOnEachWorker) {
  startBroker();
  broker_->addSessions({{"a", {}}, {"b", {}}});
  auto worker = joinWorker("w1", 3);
  worker->expect(*broker_, MessageType::kAssign);
  worker->expect(*broker_, MessageType::kAssign);
  auto peer = client();
  auto status = ask(*peer, MessageType::kStatus, msg::Plain{1});
  const auto& body = status.body.get();
  const msgpack::object* workers = nullptr;
  for (uint32_t i = 0; i < body.via.map.size; ++i) {
    if (body.via.map.ptr[i].key.as<std::string>() == "workers") workers = &body.via.map.ptr[i].val;
  }
  ASSERT_NE(workers, nullptr);
  ASSERT_EQ(workers->via.array.size, 1u);
  const auto& info = workers->via.array.ptr[0];
  const msgpack::object* sessions = nullptr;
  for (uint32_t i = 0; i < info.via.map.size; ++i) {
    if (info.via.map.ptr[i].key.as<std::string>() == "sessions")
      sessions = &info.via.map.ptr[i].val;
  }
  ASSERT_NE(sessions, nullptr);
  EXPECT_EQ(sessions->type, msgpack::type::POSITIVE_INTEGER);
  EXPECT_EQ(sessions->as<uint64_t>(), 2u);
}

TEST_F(BrokerTest, ListCountAndStatusDescribeTheCluster) {
  startBroker();
  broker_->addSessions({{"b", {}}, {"a", {}}});
  auto worker = joinWorker("w1", 1);
  auto assign = worker->expect(*broker_, MessageType::kAssign).as<msg::Assign>();
  worker->send(MessageType::kSessionUpdate,
               msg::SessionUpdate{assign.session, 1, "idle", 321, "uuid", 0, 3, ""});
  auto peer = client();
  auto list = ask(*peer, MessageType::kList, msg::Plain{1}).as<msg::ListResult>();
  ASSERT_EQ(list.sessions.size(), 2u);
  EXPECT_EQ(list.sessions[0].name, "a");
  EXPECT_EQ(list.sessions[0].state, "idle");
  EXPECT_EQ(list.sessions[0].pid, 321);
  EXPECT_EQ(list.sessions[0].turns, 3u);
  EXPECT_EQ(list.sessions[1].name, "b");
  EXPECT_EQ(list.sessions[1].state, "pending");
  auto count = ask(*peer, MessageType::kCount, msg::Plain{2}).as<msg::CountResult>();
  EXPECT_EQ(count.count, 2u);
  EXPECT_EQ(count.states["idle"], 1u);
  EXPECT_EQ(count.states["pending"], 1u);
  clock_.advance(250ms);
  auto status = ask(*peer, MessageType::kStatus, msg::Plain{3}).as<msg::StatusResult>();
  ASSERT_EQ(status.workers.size(), 1u);
  EXPECT_EQ(status.workers[0].id, "w1");
  EXPECT_EQ(status.workers[0].capacity, 1u);
  EXPECT_EQ(status.workers[0].sessions, 1u);
  EXPECT_EQ(status.workers[0].heartbeat_age_ms, 250u);
  EXPECT_EQ(status.sessions, 2u);
  EXPECT_EQ(status.pending_sessions, 1u);
}

}  // namespace
}  // namespace ccmesh::broker::testing
