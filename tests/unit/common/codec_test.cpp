#include "ccmesh/common/codec.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <vector>

#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/worker_messages.hpp"

namespace ccmesh {
namespace {

std::vector<zmq::message_t> frames(std::string_view tag, std::string_view type,
                                   const msgpack::sbuffer& body) {
  std::vector<zmq::message_t> out;
  out.emplace_back(tag.data(), tag.size());
  out.emplace_back(type.data(), type.size());
  out.emplace_back(body.data(), body.size());
  return out;
}

template <class T>
T roundTrip(MessageType type, const T& body) {
  auto wire = frames(kProtocolTag, messageTypeName(type), encodeBody(body));
  auto envelope = decodeFrames(wire);
  EXPECT_TRUE(envelope.ok()) << envelope.error().error.message;
  EXPECT_EQ(envelope->type, type);
  auto decoded = decodeBody<T>(*envelope);
  EXPECT_TRUE(decoded.ok());
  return decoded.value();
}

TEST(Codec, RoundTripsAQuery) {
  msg::Query query{42, "reviewer", "hello\nworld", true, 1500, 7};
  auto back = roundTrip(MessageType::kQuery, query);
  EXPECT_EQ(back.id, 42u);
  EXPECT_EQ(back.session, "reviewer");
  EXPECT_EQ(back.prompt, "hello\nworld");
  EXPECT_TRUE(back.stream);
  EXPECT_EQ(back.timeout_ms, 1500u);
  EXPECT_EQ(back.generation, 7u);
}

TEST(Codec, RoundTripsAStartWithEveryOption) {
  msg::Start start;
  start.id = 3;
  start.session = "s";
  auto& o = start.options;
  o.system_prompt = "sys";
  o.append_system_prompt = "more";
  o.model = "m";
  o.max_turns = 4;
  o.allowed_tools = {"Bash(echo:*)", "Read"};
  o.disallowed_tools = {"Write"};
  o.add_dir = {"/tmp"};
  o.permission_mode = "plan";
  o.cwd = "/";
  o.env = {{"A", "1"}};
  o.query_timeout_ms = 900;
  o.resume = "abc";
  o.max_restarts = 2;
  o.restart_window_ms = 1000;
  auto back = roundTrip(MessageType::kStart, start);
  EXPECT_EQ(back.options, start.options);
}

TEST(Codec, RoundTripsRepliesAndWorkerMessages) {
  msg::ErrorReply error{9, "busy", "queue full", "part", "s"};
  auto e = roundTrip(MessageType::kError, error);
  EXPECT_EQ(e.code, "busy");
  EXPECT_EQ(e.partial, "part");

  msg::ListResult list;
  list.id = 1;
  list.sessions.push_back(
      msg::SessionInfo{"a", "w1", 2, "idle", 123, "sid", 1, 0, 5, "", {}, "alice"});
  auto l = roundTrip(MessageType::kResult, list);
  ASSERT_EQ(l.sessions.size(), 1u);
  EXPECT_EQ(l.sessions[0].pid, 123);
  EXPECT_EQ(l.sessions[0].worker, "w1");
  EXPECT_EQ(l.sessions[0].creator, "alice");

  msg::Ready ready;
  ready.worker = "w1";
  ready.capacity = 8;
  ready.labels = {{"zone", "a"}};
  ready.sessions.push_back(msg::SessionReport{{"s", 3, "idle", 10, "id", 0, 1, ""}, {}});
  auto r = roundTrip(MessageType::kReady, ready);
  ASSERT_EQ(r.sessions.size(), 1u);
  EXPECT_EQ(r.sessions[0].update.generation, 3u);
  EXPECT_EQ(r.labels.at("zone"), "a");
}

TEST(Codec, IgnoresUnknownKeysAndDefaultsMissingOnes) {
  msgpack::sbuffer body;
  msgpack::packer<msgpack::sbuffer> packer(body);
  packer.pack_map(3);
  packer.pack("id");
  packer.pack(5);
  packer.pack("session");
  packer.pack("x");
  packer.pack("future_field");
  packer.pack_array(2);
  packer.pack(1);
  packer.pack(2);
  auto wire = frames(kProtocolTag, "query", body);
  auto envelope = decodeFrames(wire);
  ASSERT_TRUE(envelope.ok());
  EXPECT_EQ(envelope->id, 5u);
  auto query = decodeBody<msg::Query>(*envelope);
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->session, "x");
  EXPECT_EQ(query->prompt, "");
  EXPECT_FALSE(query->stream);
}

TEST(Codec, RejectsAWrongProtocolTagAsVersionMismatch) {
  auto wire = frames("CCM2", "ping", encodeBody(msg::Plain{1}));
  auto envelope = decodeFrames(wire);
  ASSERT_FALSE(envelope.ok());
  EXPECT_EQ(envelope.error().error.code, ErrorCode::kVersionMismatch);
}

// A client learns which request was refused only from the id: whenever the body is a map
// with an unsigned `id`, the error carries it, whatever else is wrong.
TEST(Codec, AnUnknownTypeOrAWrongTagStillCarriesTheReadableId) {
  auto body = encodeBody(msg::Plain{8});
  auto unknown = decodeFrames(frames(kProtocolTag, "frobnicate", body));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().error.code, ErrorCode::kBadRequest);
  EXPECT_EQ(unknown.error().id, 8u);
  EXPECT_NE(unknown.error().error.message.find("frobnicate"), std::string::npos);

  auto version = decodeFrames(frames("CCM2", "ping", body));
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().error.code, ErrorCode::kVersionMismatch);
  EXPECT_EQ(version.error().id, 8u);

  auto not_a_map = decodeFrames(frames("CCM2", "ping", encodeBody(std::vector<int>{8})));
  ASSERT_FALSE(not_a_map.ok());
  EXPECT_EQ(not_a_map.error().error.code, ErrorCode::kVersionMismatch);
  EXPECT_EQ(not_a_map.error().id, 0u);
  msgpack::sbuffer signed_id;
  msgpack::packer<msgpack::sbuffer> packer(signed_id);
  packer.pack_map(1);
  packer.pack("id");
  packer.pack(-8);
  auto negative = decodeFrames(frames(kProtocolTag, "frobnicate", signed_id));
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().id, 0u);
}

// Strings are msgpack str: a bin is refused wherever it sits, naming the field.
TEST(Codec, RefusesBinWhereAStringBelongs) {
  auto withBin = [](const std::function<void(msgpack::packer<msgpack::sbuffer>&)>& fill) {
    msgpack::sbuffer body;
    msgpack::packer<msgpack::sbuffer> packer(body);
    fill(packer);
    return body;
  };
  auto bin = [](msgpack::packer<msgpack::sbuffer>& packer, std::string_view bytes) {
    packer.pack_bin(static_cast<uint32_t>(bytes.size()));
    packer.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
  };
  struct Case {
    std::string_view type;
    msgpack::sbuffer body;
    std::string_view field;
  };
  std::vector<Case> cases;
  cases.push_back({"query", withBin([&](auto& packer) {
                     packer.pack_map(3);
                     packer.pack("id");
                     packer.pack(21);
                     packer.pack("session");
                     bin(packer, "reviewer");
                     packer.pack("prompt");
                     packer.pack("hi");
                   }),
                   "session"});
  cases.push_back({"start", withBin([&](auto& packer) {
                     packer.pack_map(3);
                     packer.pack("id");
                     packer.pack(21);
                     packer.pack("session");
                     packer.pack("s");
                     packer.pack("options");
                     packer.pack_map(1);
                     packer.pack("allowed_tools");
                     packer.pack_array(2);
                     packer.pack("Read");
                     bin(packer, "Bash");
                   }),
                   "options.allowed_tools[1]"});
  cases.push_back({"info", withBin([&](auto& packer) {
                     packer.pack_map(2);
                     packer.pack("id");
                     packer.pack(21);
                     bin(packer, "session");
                     packer.pack("s");
                   }),
                   "session"});
  for (const auto& c : cases) {
    auto decoded = decodeFrames(frames(kProtocolTag, c.type, c.body));
    ASSERT_FALSE(decoded.ok()) << c.field;
    EXPECT_EQ(decoded.error().error.code, ErrorCode::kBadRequest);
    EXPECT_EQ(decoded.error().id, 21u);
    EXPECT_NE(decoded.error().error.message.find("field " + std::string(c.field) + ":"),
              std::string::npos)
        << decoded.error().error.message;
  }
}

TEST(Codec, RejectsEveryMalformedShape) {
  auto ping = encodeBody(msg::Plain{1});
  std::vector<std::vector<zmq::message_t>> cases;
  cases.emplace_back();  // no frames
  {
    std::vector<zmq::message_t> two;
    two.emplace_back(kProtocolTag.data(), kProtocolTag.size());
    two.emplace_back("ping", 4);
    cases.push_back(std::move(two));  // missing body
  }
  {
    auto four = frames(kProtocolTag, "ping", ping);
    four.emplace_back("x", 1);
    cases.push_back(std::move(four));  // extra frame
  }
  cases.push_back(frames(kProtocolTag, "", ping));                    // empty type
  cases.push_back(frames(kProtocolTag, "launch_missiles", ping));     // unknown type
  cases.push_back(frames(kProtocolTag, "ping", msgpack::sbuffer{}));  // empty body
  {
    msgpack::sbuffer truncated;
    truncated.write(ping.data(), ping.size() - 1);
    cases.push_back(frames(kProtocolTag, "ping", truncated));  // truncated msgpack
  }
  {
    msgpack::sbuffer array;
    msgpack::pack(array, std::vector<int>{1, 2});
    cases.push_back(frames(kProtocolTag, "ping", array));  // not a map
  }
  {
    msgpack::sbuffer trailing;
    trailing.write(ping.data(), ping.size());
    trailing.write(ping.data(), ping.size());
    cases.push_back(frames(kProtocolTag, "ping", trailing));  // two bodies in one frame
  }
  {
    msgpack::sbuffer deep;
    msgpack::packer<msgpack::sbuffer> packer(deep);
    packer.pack_map(1);
    packer.pack("id");
    for (int i = 0; i < 100; ++i) packer.pack_array(1);
    packer.pack(1);
    cases.push_back(frames(kProtocolTag, "ping", deep));  // nested beyond the depth limit
  }
  {
    msgpack::sbuffer huge_claim;
    const unsigned char header[] = {0xdf, 0x7f, 0xff, 0xff, 0xff};  // map32 of 2^31-1 entries
    huge_claim.write(reinterpret_cast<const char*>(header), sizeof header);
    cases.push_back(frames(kProtocolTag, "ping", huge_claim));  // lies about its size
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    auto result = decodeFrames(cases[i]);
    ASSERT_FALSE(result.ok()) << "case " << i;
    EXPECT_EQ(result.error().error.code, ErrorCode::kBadRequest) << "case " << i;
    EXPECT_FALSE(result.error().error.message.empty()) << "case " << i;
  }
}

TEST(Codec, ReportsWrongFieldTypesWithTheRequestId) {
  msgpack::sbuffer body;
  msgpack::packer<msgpack::sbuffer> packer(body);
  packer.pack_map(2);
  packer.pack("id");
  packer.pack(77);
  packer.pack("prompt");
  packer.pack(12);  // a number where a string belongs
  auto wire = frames(kProtocolTag, "query", body);
  auto envelope = decodeFrames(wire);
  ASSERT_TRUE(envelope.ok());
  auto query = decodeBody<msg::Query>(*envelope);
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error().id, 77u);
  EXPECT_EQ(query.error().error.code, ErrorCode::kBadRequest);
}

TEST(Codec, NamesTheOptionWithTheWrongType) {
  msgpack::sbuffer body;
  msgpack::packer<msgpack::sbuffer> packer(body);
  packer.pack_map(3);
  packer.pack("id");
  packer.pack(1);
  packer.pack("session");
  packer.pack("s");
  packer.pack("options");
  packer.pack_map(1);
  packer.pack("max_turns");
  packer.pack("many");
  auto wire = frames(kProtocolTag, "start", body);
  auto envelope = decodeFrames(wire);
  ASSERT_TRUE(envelope.ok());
  auto start = decodeBody<msg::Start>(*envelope);
  ASSERT_FALSE(start.ok());
  EXPECT_NE(start.error().error.message.find("max_turns"), std::string::npos)
      << start.error().error.message;
}

// A start (or pool_create) whose options hold a key that is no option is refused, naming
// it: a typo in a prompt or permission option must not pass silently.
TEST(Codec, RefusesUnknownOptionKeysOfARequestButNotOfAReport) {
  auto withOption = [](std::string_view type, std::string_view key) {
    msgpack::sbuffer body;
    msgpack::packer<msgpack::sbuffer> packer(body);
    packer.pack_map(3);
    packer.pack("id");
    packer.pack(4);
    packer.pack(type == "start" ? "session" : "pool");
    packer.pack("s");
    packer.pack("options");
    packer.pack_map(2);
    packer.pack("model");
    packer.pack("m");
    packer.pack(key);
    packer.pack("600000");
    return body;
  };
  for (std::string_view key : {"sytem_prompt", "idle_timeout"}) {
    auto start = decodeFrames(frames(kProtocolTag, "start", withOption("start", key)));
    ASSERT_TRUE(start.ok());
    auto refused = decodeBody<msg::Start>(*start);
    ASSERT_FALSE(refused.ok()) << key;
    EXPECT_EQ(refused.error().id, 4u);
    EXPECT_EQ(refused.error().error.code, ErrorCode::kBadRequest);
    EXPECT_EQ(refused.error().error.message.rfind("option " + std::string(key) + ": unknown", 0),
              0u)
        << refused.error().error.message;
    auto pool = decodeFrames(frames(kProtocolTag, "pool_create", withOption("pool_create", key)));
    ASSERT_TRUE(pool.ok());
    EXPECT_FALSE(decodeBody<msg::PoolCreate>(*pool).ok()) << key;
  }
  auto idle = decodeBody<msg::Start>(
      *decodeFrames(frames(kProtocolTag, "start", withOption("start", "idle_timeout"))));
  EXPECT_NE(idle.error().error.message.find("idle_timeout_ms"), std::string::npos);

  // Every key SessionOptions writes is one it takes back.
  msg::Start full{5, "s", {}};
  full.options.idle_timeout_ms = 600000;
  full.options.pool = "p";
  EXPECT_EQ(roundTrip(MessageType::kStart, full).options, full.options);

  // What a worker reports (and a broker describes) may come from a newer version.
  msgpack::sbuffer report;
  msgpack::packer<msgpack::sbuffer> packer(report);
  packer.pack_map(2);
  packer.pack("model");
  packer.pack("m");
  packer.pack("option_of_the_future");
  packer.pack(1);
  auto handle = msgpack::unpack(report.data(), report.size());
  auto options = SessionOptions::fromObject(handle.get());
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->model, "m");
}

TEST(Codec, RandomBytesNeverThrow) {
  std::mt19937 random(1234);
  for (int i = 0; i < 5000; ++i) {
    msgpack::sbuffer body;
    int size = static_cast<int>(random() % 64);
    for (int b = 0; b < size; ++b) {
      char c = static_cast<char>(random());
      body.write(&c, 1);
    }
    auto wire = frames(kProtocolTag, i % 2 ? "query" : "start", body);
    auto envelope = decodeFrames(wire);
    if (envelope.ok()) {
      (void)decodeBody<msg::Query>(*envelope);
      (void)decodeBody<msg::Start>(*envelope);
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace ccmesh
