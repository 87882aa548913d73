#include "ccmesh/client/client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/limits.hpp"
#include "ccmesh/common/requests.hpp"
#include "fake_broker.hpp"

namespace ccmesh::client {
namespace {

using fakes::FakeBroker;
using std::chrono::milliseconds;
using Packer = msgpack::packer<msgpack::sbuffer>;

ClientOptions optionsFor(const FakeBroker& broker, Millis timeout = std::chrono::seconds(10)) {
  ClientOptions options;
  options.broker = broker.endpoint();
  options.timeout = timeout;
  return options;
}

// A body written by hand, for replies the typed structs cannot express.
std::string packed(const std::function<void(Packer&)>& fill) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  fill(packer);
  return std::string(buffer.data(), buffer.size());
}

msg::ErrorReply errorReply(uint64_t id, std::string code, std::string message,
                           std::string partial = "") {
  msg::ErrorReply reply;
  reply.id = id;
  reply.code = std::move(code);
  reply.message = std::move(message);
  reply.partial = std::move(partial);
  return reply;
}

msg::QueryResult queryResult(uint64_t id, std::string text) {
  msg::QueryResult result;
  result.id = id;
  result.session = "s";
  result.text = std::move(text);
  return result;
}

// Answers ping with version "test"; everything else is left unanswered.
void answerPing(const FakeBroker::Request& request, FakeBroker::Replier& reply) {
  if (request.type == MessageType::kPing) {
    reply.send(MessageType::kResult, msg::PingResult{request.id, "test", 4200});
  }
}

TEST(Client, PingReturnsTheBrokersVersionAndUptime) {
  FakeBroker broker(answerPing);
  Client client(optionsFor(broker));
  auto pong = client.ping();
  ASSERT_TRUE(pong.ok()) << pong.error().message;
  EXPECT_EQ(pong->version, "test");
  EXPECT_EQ(pong->uptime_ms, 4200u);
}

TEST(Client, RequestIdsStartAtOneAndIncrease) {
  FakeBroker broker(answerPing);
  Client client(optionsFor(broker));
  ASSERT_TRUE(client.ping().ok());
  ASSERT_TRUE(client.ping().ok());
  EXPECT_EQ(client.sendQuery("s", "p"), 3u);
  auto received = broker.waitFor(MessageType::kQuery, 1);
  ASSERT_EQ(broker.received().size(), 3u);
  EXPECT_EQ(broker.received()[0].id, 1u);
  EXPECT_EQ(broker.received()[1].id, 2u);
  EXPECT_EQ(received.at(0).id, 3u);
}

TEST(Client, QueryDeliversEventsInOrderThenTheResult) {
  FakeBroker broker([](const auto& request, auto& reply) {
    if (request.type != MessageType::kQuery) return;
    auto query = request.template as<msg::Query>();
    const std::vector<std::string> parts{"Hel", "lo, ", "world"};
    for (uint64_t seq = 0; seq < parts.size(); ++seq) {
      reply.send(MessageType::kEvent, msg::Event{query.id, seq, "delta", parts[seq]});
    }
    msg::QueryResult result{query.id, query.session, "Hello, world", "sid-1", "w1", 12, 2.0, 3, 4};
    reply.send(MessageType::kResult, result);
  });
  Client client(optionsFor(broker));
  std::vector<msg::Event> events;
  auto result = client.query("s", "hi", QueryOptions{.stream = true},
                             [&](const msg::Event& event) { events.push_back(event); });
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(events.size(), 3u);
  for (uint64_t seq = 0; seq < 3; ++seq) EXPECT_EQ(events[seq].seq, seq);
  EXPECT_EQ(events[0].text + events[1].text + events[2].text, "Hello, world");
  EXPECT_EQ(result->text, "Hello, world");
  EXPECT_EQ(result->session, "s");
  EXPECT_EQ(result->session_id, "sid-1");
  EXPECT_EQ(result->worker, "w1");
  EXPECT_EQ(result->duration_ms, 12u);
  EXPECT_DOUBLE_EQ(result->cost_usd, 2.0);  // packed as an integer: no fraction
  EXPECT_EQ(result->input_tokens, 3u);
  EXPECT_EQ(result->output_tokens, 4u);
}

TEST(Client, QuerySendsItsFieldsAndOnlyAnExplicitTimeout) {
  FakeBroker broker([](const auto& request, auto& reply) {
    if (request.type == MessageType::kQuery) {
      reply.send(MessageType::kResult, queryResult(request.id, "ok"));
    }
  });
  Client client(optionsFor(broker, milliseconds(7000)));
  ASSERT_TRUE(client.query("s1", "first").ok());
  ASSERT_TRUE(
      client.query("s2", "second", QueryOptions{.stream = true, .timeout = milliseconds(1234)})
          .ok());
  auto queries = broker.waitFor(MessageType::kQuery, 2);
  ASSERT_EQ(queries.size(), 2u);
  auto first = queries[0].as<msg::Query>();
  auto second = queries[1].as<msg::Query>();
  EXPECT_EQ(first.session, "s1");
  EXPECT_EQ(first.prompt, "first");
  EXPECT_FALSE(first.stream);
  EXPECT_EQ(first.timeout_ms, 0u);  // none given: the session's query_timeout_ms applies
  EXPECT_EQ(second.session, "s2");
  EXPECT_TRUE(second.stream);
  EXPECT_EQ(second.timeout_ms, 1234u);
}

TEST(Client, ErrorReplyKeepsCodeMessageAndPartial) {
  FakeBroker broker([](const auto& request, auto& reply) {
    reply.send(MessageType::kError, errorReply(request.id, "timeout", "deadline passed", "par"));
  });
  Client client(optionsFor(broker));
  auto result = client.query("s", "hi");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(result.error().code_name, "timeout");
  EXPECT_EQ(result.error().message, "deadline passed");
  EXPECT_EQ(result.error().partial, "par");
}

TEST(Client, UnknownErrorCodeBecomesInternalAndKeepsItsName) {
  FakeBroker broker([](const auto& request, auto& reply) {
    reply.send(MessageType::kError, errorReply(request.id, "quota_exceeded", "too much"));
  });
  Client client(optionsFor(broker));
  auto info = client.info("s");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, ErrorCode::kInternal);
  EXPECT_EQ(info.error().code_name, "quota_exceeded");
  EXPECT_EQ(info.error().message, "too much");
}

// duplicate_id refuses the new request only: the final reply the request in flight under
// that id still gets is nobody's, and must not surface later as if it were an answer.
TEST(Client, DuplicateIdEndsTheCallAndTheOtherRequestsReplyIsDropped) {
  FakeBroker broker([](const auto& request, auto& reply) {
    if (request.type == MessageType::kQuery) {
      reply.send(MessageType::kError, errorReply(request.id, "duplicate_id", "in flight"));
      reply.send(MessageType::kResult, queryResult(request.id, "the other request's answer"));
    } else {
      answerPing(request, reply);
    }
  });
  Client client(optionsFor(broker));
  auto result = client.query("s", "hi");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kDuplicateId);
  EXPECT_EQ(result.error().code_name, "duplicate_id");
  ASSERT_TRUE(client.ping().ok()) << "the later answer has arrived by now";
  EXPECT_FALSE(client.receive(milliseconds(20)).has_value());
}

TEST(Client, ResultWithAFieldOfTheWrongTypeIsBadRequest) {
  FakeBroker broker([](const auto& request, auto& reply) {
    reply.sendFrames({"CCM1", "result", packed([&](Packer& p) {
                        p.pack_map(2);
                        p.pack("id");
                        p.pack(request.id);
                        p.pack("text");
                        p.pack(42);
                      })});
  });
  Client client(optionsFor(broker));
  auto result = client.query("s", "hi");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(result.error().code_name, "bad_request");
  EXPECT_EQ(result.error().message.rfind("malformed reply: ", 0), 0u) << result.error().message;
}

TEST(Client, UndecodableReplyEndsTheWaitingCallAsBadRequest) {
  FakeBroker broker([](const auto&, auto& reply) {
    reply.sendFrames({"CCM1", "result", std::string("\xc1", 1)});  // 0xc1: never valid
  });
  Client client(optionsFor(broker));
  auto start = std::chrono::steady_clock::now();
  auto count = client.count();
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(count.error().message.rfind("malformed reply: ", 0), 0u) << count.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Client, WrongProtocolTagInAReplyIsBadRequest) {
  FakeBroker broker([](const auto& request, auto& reply) {
    reply.sendFrames({"CCM9", "result", packed([&](Packer& p) {
                        p.pack_map(1);
                        p.pack("id");
                        p.pack(request.id);
                      })});
  });
  Client client(optionsFor(broker));
  auto status = client.status();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kBadRequest);
}

TEST(Client, NoReplyIsALocalTimeoutAtTheDeadline) {
  FakeBroker broker(nullptr);
  Client client(optionsFor(broker, milliseconds(300)));
  auto start = std::chrono::steady_clock::now();
  auto pong = client.ping();
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(pong.ok());
  EXPECT_EQ(pong.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(pong.error().code_name, "timeout");
  EXPECT_EQ(pong.error().message,
            "no reply from broker at " + broker.endpoint() + " within 300 ms");
  EXPECT_GE(elapsed, milliseconds(300));
  EXPECT_LT(elapsed, milliseconds(2000));
}

TEST(Client, QueryLocalTimeoutKeepsThePartialTextAndCancels) {
  FakeBroker broker([](const auto& request, auto& reply) {
    if (request.type == MessageType::kQuery) {
      reply.send(MessageType::kEvent, msg::Event{request.id, 0, "delta", "par"});
      reply.send(MessageType::kEvent, msg::Event{request.id, 1, "delta", "tial"});
    }
  });
  ClientOptions options = optionsFor(broker);
  options.query_grace = milliseconds(100);
  Client client(options);
  auto start = std::chrono::steady_clock::now();
  auto result = client.query("s", "hi", QueryOptions{.stream = true, .timeout = milliseconds(200)});
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(result.error().partial, "partial");
  EXPECT_GE(elapsed, milliseconds(300));  // the deadline plus the grace
  EXPECT_LT(elapsed, milliseconds(3000));
  auto cancels = broker.waitFor(MessageType::kCancel, 1);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].id, 1u);
}

TEST(Client, RepliesForOtherRequestsAreKeptForReceive) {
  uint64_t pending_query = 0;  // touched only in the broker thread
  FakeBroker broker([&pending_query](const auto& request, auto& reply) {
    if (request.type == MessageType::kQuery) {
      pending_query = request.id;  // answered later, in front of the ping's reply
    } else if (request.type == MessageType::kPing) {
      reply.send(MessageType::kEvent, msg::Event{pending_query, 0, "delta", "la"});
      reply.send(MessageType::kResult, queryResult(pending_query, "late"));
      reply.send(MessageType::kResult, msg::PingResult{request.id, "test", 1});
    }
  });
  Client client(optionsFor(broker));
  const uint64_t query_id = client.sendQuery("s", "p", QueryOptions{.stream = true});
  auto pong = client.ping();
  ASSERT_TRUE(pong.ok()) << pong.error().message;
  EXPECT_EQ(pong->version, "test");

  auto event = client.receive(milliseconds(0));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, MessageType::kEvent);
  EXPECT_EQ(event->id, query_id);
  EXPECT_EQ(event->event.text, "la");
  auto result = client.receive(milliseconds(0));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->type, MessageType::kResult);
  EXPECT_EQ(result->id, query_id);
  EXPECT_EQ(result->result.text, "late");
  EXPECT_FALSE(client.receive(milliseconds(20)).has_value());
}

// The broker forgets a request once it has answered it, so a ping that crosses the final
// reply lists the request as unknown; the reply, which arrives first, wins.
TEST(Client, AFinalReplyBeforeThePingsAnswerWinsOverUnknown) {
  FakeBroker broker([](const auto& request, auto& reply) {
    if (request.type != MessageType::kPing) return;  // the query waits for the check
    const auto pending = request.template as<msg::Ping>().pending;
    ASSERT_EQ(pending.size(), 1u);
    reply.send(MessageType::kResult, queryResult(pending[0], "just in time"));
    msg::PingResult pong{request.id, "test", 1};
    pong.unknown = pending;
    reply.send(MessageType::kResult, pong);
  });
  ClientOptions options = optionsFor(broker);
  options.broker_check = milliseconds(20);
  Client client(options);
  auto result = client.query("s", "hi");
  ASSERT_TRUE(result.ok()) << result.error().code_name << ": " << result.error().message;
  EXPECT_EQ(result->text, "just in time");
  EXPECT_EQ(broker.waitFor(MessageType::kPing, 1).size(), 1u);
  EXPECT_FALSE(client.receive(milliseconds(20)).has_value()) << "the ping's answer is dropped";
}

// A pool query or a waiting checkout the broker no longer knows (it restarted) ends at the
// next check instead of at its deadline, as a session query does.
TEST(Client, PoolRequestsTheBrokerLostEndAtTheNextCheck) {
  FakeBroker broker([](const auto& request, auto& reply) {
    if (request.type != MessageType::kPing) return;  // pool requests are never answered
    msg::PingResult pong{request.id, "test", 1};
    pong.unknown = request.template as<msg::Ping>().pending;
    reply.send(MessageType::kResult, pong);
  });
  ClientOptions options = optionsFor(broker);
  options.broker_check = milliseconds(20);
  options.timeout = std::chrono::seconds(5);  // without the check: `timeout` after 5 s
  Client client(options);
  auto answer = client.poolQuery("p", "hi");
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, ErrorCode::kUnavailable) << answer.error().message;
  auto member = client.checkout("p", std::chrono::seconds(10), std::chrono::seconds(5));
  ASSERT_FALSE(member.ok());
  EXPECT_EQ(member.error().code, ErrorCode::kUnavailable) << member.error().message;
  EXPECT_GE(broker.waitFor(MessageType::kPing, 2).size(), 2u);
}

TEST(Client, SeventeenQueriesInFlightAreAnsweredInOrder) {
  FakeBroker broker([](const auto& request, auto& reply) {
    if (request.type != MessageType::kQuery) return;
    auto query = request.template as<msg::Query>();
    reply.send(MessageType::kEvent, msg::Event{query.id, 0, "delta", query.prompt});
    reply.send(MessageType::kResult, queryResult(query.id, query.prompt));
  });
  Client client(optionsFor(broker));
  std::vector<uint64_t> ids;
  for (int i = 0; i < 17; ++i) {
    ids.push_back(client.sendQuery("s", "prompt " + std::to_string(i), {.stream = true}));
  }
  std::vector<Incoming> results;
  std::vector<uint64_t> event_ids;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (results.size() < ids.size() && std::chrono::steady_clock::now() < deadline) {
    auto incoming = client.receive(milliseconds(100));
    if (!incoming) continue;
    if (incoming->type == MessageType::kEvent) {
      event_ids.push_back(incoming->id);
    } else {
      ASSERT_EQ(incoming->type, MessageType::kResult) << incoming->error.message;
      // Each request's events come before its result.
      ASSERT_FALSE(event_ids.empty());
      EXPECT_EQ(event_ids.back(), incoming->id);
      results.push_back(std::move(*incoming));
    }
  }
  ASSERT_EQ(results.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(results[i].id, ids[i]);
    EXPECT_EQ(results[i].result.text, "prompt " + std::to_string(i));
  }
}

TEST(Client, ShouldCancelSendsOneCancelAndEndsWithCancelled) {
  FakeBroker broker([](const auto& request, auto& reply) {
    if (request.type == MessageType::kQuery) {
      reply.send(MessageType::kEvent, msg::Event{request.id, 0, "delta", "hel"});
    } else if (request.type == MessageType::kCancel) {
      reply.send(MessageType::kError, errorReply(request.id, "cancelled", "by client", "hel"));
    } else {
      answerPing(request, reply);
    }
  });
  Client client(optionsFor(broker));
  bool seen_event = false;
  QueryOptions options{.stream = true, .should_cancel = [&seen_event] { return seen_event; }};
  auto result =
      client.query("s", "hi", options, [&seen_event](const msg::Event&) { seen_event = true; });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(result.error().partial, "hel");
  // A round trip after the query proves every message it sent has arrived.
  ASSERT_TRUE(client.ping().ok());
  auto cancels = broker.waitFor(MessageType::kCancel, 1);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].id, 1u);
}

TEST(Client, CancelAsksTheBrokerToStopThatRequest) {
  FakeBroker broker([](const auto& request, auto& reply) {
    if (request.type == MessageType::kCancel) {
      reply.send(MessageType::kError, errorReply(request.id, "cancelled", "by client"));
    }
  });
  Client client(optionsFor(broker));
  const uint64_t id = client.sendQuery("s", "p");
  client.cancel(id);
  auto reply = client.receive(std::chrono::seconds(10));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->type, MessageType::kError);
  EXPECT_EQ(reply->id, id);
  EXPECT_EQ(reply->error.code, ErrorCode::kCancelled);
  EXPECT_EQ(broker.waitFor(MessageType::kCancel, 1).at(0).id, id);
}

TEST(Client, LateReplyOfACallThatTimedOutIsDropped) {
  FakeBroker broker([](const auto& request, auto& reply) {
    if (request.type == MessageType::kPing && request.id == 2) {
      reply.send(MessageType::kResult, msg::PingResult{1, "late", 0});
      reply.send(MessageType::kResult, msg::PingResult{2, "fresh", 0});
    }
  });
  Client client(optionsFor(broker, milliseconds(200)));
  ASSERT_FALSE(client.ping().ok());
  auto pong = client.ping();
  ASSERT_TRUE(pong.ok()) << pong.error().message;
  EXPECT_EQ(pong->version, "fresh");
  EXPECT_FALSE(client.receive(milliseconds(20)).has_value());
}

TEST(Client, RequestOverTheBrokersMessageLimitIsBadRequestAtOnce) {
  FakeBroker broker(answerPing);
  const Millis deadline = std::chrono::seconds(20);
  Client client(optionsFor(broker, deadline));
  ASSERT_TRUE(client.ping().ok());
  const std::string prompt(limits::kMaxBodyBytes + 1, 'x');
  const auto began = std::chrono::steady_clock::now();
  auto answer = client.query("s", prompt);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, ErrorCode::kBadRequest) << answer.error().message;
  EXPECT_NE(answer.error().message.find(std::to_string(limits::kMaxBodyBytes)), std::string::npos)
      << answer.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - began, deadline / 2) << "waited for the deadline";
  const uint64_t id = client.sendQuery("s", prompt);
  auto stashed = client.receive(Millis{0});
  ASSERT_TRUE(stashed);
  EXPECT_EQ(stashed->id, id);
  EXPECT_EQ(stashed->error.code, ErrorCode::kBadRequest);
  // Nothing went out, so the connection is still up.
  ASSERT_TRUE(client.ping().ok());
  for (const auto& request : broker.received()) EXPECT_NE(request.type, MessageType::kQuery);
}

TEST(Client, BadEndpointThrowsAtConstruction) {
  ClientOptions options;
  options.broker = "not an endpoint";
  EXPECT_THROW(Client{options}, ConfigError);
}

TEST(Client, StartSendsTheOptionsAndReturnsTheAck) {
  FakeBroker broker([](const auto& request, auto& reply) {
    if (request.type != MessageType::kStart) return;
    auto start = request.template as<msg::Start>();
    reply.send(MessageType::kResult, msg::Ack{start.id, start.session, "w1", 3, "starting"});
  });
  Client client(optionsFor(broker));
  SessionOptions options;
  options.model = "opus";
  options.env["A"] = "1";
  auto ack = client.start("s", options);
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  EXPECT_EQ(ack->session, "s");
  EXPECT_EQ(ack->worker, "w1");
  EXPECT_EQ(ack->generation, 3u);
  EXPECT_EQ(ack->state, "starting");
  auto sent = broker.waitFor(MessageType::kStart, 1).at(0).as<msg::Start>();
  EXPECT_EQ(sent.options, options);
}

TEST(Client, ManagementRepliesDecodeIntoTheirShapes) {
  msg::SessionInfo a;
  a.name = "a";
  a.state = "idle";
  a.config.model = "haiku";
  msg::SessionInfo b;
  b.name = "b";
  b.state = "pending";
  FakeBroker broker([&a, &b](const auto& request, auto& reply) {
    switch (request.type) {
      case MessageType::kInfo:
        reply.send(MessageType::kResult, msg::InfoResult{request.id, a});
        break;
      case MessageType::kList:
        reply.send(MessageType::kResult, msg::ListResult{request.id, {a, b}});
        break;
      case MessageType::kCount:
        reply.send(MessageType::kResult,
                   msg::CountResult{request.id, 2, {{"idle", 1}, {"pending", 1}}});
        break;
      case MessageType::kStatus: {
        msg::StatusResult status;
        status.id = request.id;
        status.version = "v";
        status.workers.push_back(msg::WorkerInfo{"w1", 8, 1, {{"gpu", "no"}}, 5});
        status.sessions = 2;
        status.pending_sessions = 1;
        reply.send(MessageType::kResult, status);
        break;
      }
      case MessageType::kTerminate:
      case MessageType::kRestart:
        reply.send(MessageType::kResult, msg::Ack{request.id, "a", "w1", 1, "stopped"});
        break;
      default:
        break;
    }
  });
  Client client(optionsFor(broker));
  auto info = client.info("a");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->name, "a");
  EXPECT_EQ(info->config.model, "haiku");
  auto list = client.list();
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].state, "pending");
  auto count = client.count();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->count, 2u);
  EXPECT_EQ(count->states.at("idle"), 1u);
  auto status = client.status();
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->workers.size(), 1u);
  EXPECT_EQ(status->workers[0].labels.at("gpu"), "no");
  EXPECT_EQ(status->pending_sessions, 1u);
  EXPECT_EQ(client.terminate("a")->state, "stopped");
  ASSERT_TRUE(client.restart("a", true).ok());
  auto restart = broker.waitFor(MessageType::kRestart, 1).at(0).as<msg::Restart>();
  EXPECT_TRUE(restart.keep_history);
  EXPECT_EQ(restart.session, "a");
}

}  // namespace
}  // namespace ccmesh::client
