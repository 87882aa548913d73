// Random and truncated frames thrown at both broker ports, and at a worker from a fake
// broker, while a well-behaved peer keeps getting its answers. Bounded in count and time; the
// random generator's seed is fixed so a failure replays.
#include <gtest/gtest.h>

#include <msgpack.hpp>
#include <random>
#include <zmq.hpp>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/socket_io.hpp"
#include "ccmesh/common/worker_messages.hpp"
#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

constexpr int kRounds = 20;           // garbage bursts, each followed by a good request
constexpr int kGarbagePerRound = 50;  // messages per burst and port
constexpr uint32_t kSeed = 20240610;  // the generator's seed

// Makes hostile multipart messages: random bytes, random frame counts, wrong tags and types,
// truncated copies of valid messages, bodies whose fields have the wrong types, bodies that
// are not maps or nest too deep, and now and then a frame of 1-2 MiB.
// Never a complete valid message, so it cannot steer the peer under test.
class GarbageMaker {
 public:
  explicit GarbageMaker(std::vector<MessageType> types) : types_(std::move(types)) {}

  std::vector<std::string> next() {
    // One big random frame now and then.
    if (pick(100) == 0) return {"CCM1", typeName(), bytes((1u << 20) + pick(1u << 20))};
    switch (pick(6)) {
      case 0: {  // random frames, 1..12 of them
        std::vector<std::string> frames(1 + pick(12));
        for (auto& frame : frames) frame = bytes(pick(64));
        return frames;
      }
      case 1:  // the right tag, a random type
        return {"CCM1", bytes(1 + pick(16)), bytes(pick(32))};
      case 2:  // a wrong tag
        return {bytes(4), typeName(), validBody()};
      case 3: {  // a valid message cut short
        std::string body = validBody();
        return {"CCM1", typeName(), body.substr(0, pick(static_cast<uint32_t>(body.size())))};
      }
      case 4: {  // fields of the wrong type: one the type in question reads, at least
        msgpack::sbuffer buffer;
        msgpack::packer<msgpack::sbuffer> packer(buffer);
        packer.pack_map(12);
        packer.pack("id");
        packer.pack("seven");
        packer.pack("session");
        packer.pack(std::vector<int>{1, 2});
        packer.pack("options");
        packer.pack(3.5);
        packer.pack("generation");
        packer.pack(-1);
        packer.pack("worker");
        packer.pack(5);
        packer.pack("capacity");
        packer.pack("many");
        packer.pack("seq");
        packer.pack("next");
        packer.pack("heartbeat_ms");
        packer.pack(std::vector<int>{});
        packer.pack("pool");
        packer.pack(9);
        packer.pack("size");
        packer.pack("big");
        packer.pack("lease_id");
        packer.pack(std::vector<int>{4});
        packer.pack("members");
        packer.pack(2.5);
        return {"CCM1", typeName(), std::string(buffer.data(), buffer.size())};
      }
      default:  // a body that is not a map, or nested too deep
        return {
            "CCM1", typeName(),
            pick(2) == 0 ? std::string("\x93\x01\x02\x03", 4) : std::string(40, '\x91') + "\x01"};
    }
  }

 private:
  uint32_t pick(uint32_t bound) { return bound == 0 ? 0 : random_() % bound; }
  std::string bytes(std::size_t count) {
    std::string text(count, '\0');
    for (auto& c : text) c = static_cast<char>(random_());
    return text;
  }
  std::string typeName() {
    return std::string(messageTypeName(types_[pick(static_cast<uint32_t>(types_.size()))]));
  }
  std::string validBody() {
    msg::Query query;
    // Never the id of a real request of the test: a refusal carries the id it could read.
    query.id = 1000000 + pick(1000);
    query.session = "s";
    query.prompt = bytes(pick(200));
    query.generation = 1;
    auto buffer = encodeBody(query);
    return std::string(buffer.data(), buffer.size());
  }

  std::vector<MessageType> types_;  // type names used in otherwise valid-looking messages
  std::mt19937 random_{kSeed};      // the one source of randomness
};

// A raw DEALER that sends whatever frames it is given and throws replies away.
class RawPeer {
 public:
  RawPeer(zmq::context_t& context, const std::string& endpoint)
      : socket_(context, zmq::socket_type::dealer) {
    applyCommonOptions(socket_);
    socket_.set(zmq::sockopt::sndtimeo, 1000);
    socket_.connect(endpoint);
  }

  void send(const std::vector<std::string>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      (void)socket_.send(zmq::buffer(frames[i]),
                         i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    drain();
  }

  // Reads and drops whatever came back (error replies); returns how many messages.
  std::size_t drain() {
    std::vector<zmq::message_t> frames;
    bool oversized = false;
    std::size_t count = 0;
    while (receiveMessage(socket_, frames, oversized)) ++count;
    return count;
  }

 private:
  zmq::socket_t socket_;  // DEALER to the port under attack
};

TEST(HostileInput, BrokerKeepsServingWhileBothPortsGetGarbage) {
  Cluster cluster;
  cluster.startWorker("w1");
  auto client = cluster.client();
  ASSERT_TRUE(client->start("s").ok());
  zmq::context_t context;
  RawPeer frontend(context, cluster.frontend());
  RawPeer backend(context, cluster.backend());
  GarbageMaker client_garbage(
      {MessageType::kQuery, MessageType::kStart, MessageType::kTerminate, MessageType::kRestart,
       MessageType::kInfo, MessageType::kCancel, MessageType::kStatus, MessageType::kPoolCreate,
       MessageType::kPoolQuery, MessageType::kPoolCheckout, MessageType::kPoolCheckin,
       MessageType::kPoolList, MessageType::kPoolInfo, MessageType::kPoolResize,
       MessageType::kPoolDelete, MessageType::kMove, MessageType::kTranscript});
  GarbageMaker worker_garbage(
      {MessageType::kReady, MessageType::kHeartbeat, MessageType::kSessionUpdate,
       MessageType::kResult, MessageType::kError, MessageType::kEvent, MessageType::kDelivered,
       MessageType::kLoad, MessageType::kBye, MessageType::kTranscriptAppend});
  for (int round = 1; round <= kRounds; ++round) {
    for (int i = 0; i < kGarbagePerRound; ++i) {
      frontend.send(client_garbage.next());
      backend.send(worker_garbage.next());
    }
    const std::string prompt = "round " + std::to_string(round);
    auto answer = client->query("s", prompt);
    ASSERT_TRUE(answer.ok()) << "round " << round << ": " << answer.error().message << "\n"
                             << cluster.logs();
    EXPECT_EQ(answer->text, "turn " + std::to_string(round) + ": " + prompt);
  }
  ASSERT_TRUE(cluster.broker().running());
  auto status = client->status();
  ASSERT_TRUE(status.ok());
  EXPECT_GE(status->malformed_messages, static_cast<uint64_t>(kRounds * kGarbagePerRound));
  ASSERT_EQ(status->workers.size(), 1u);
  EXPECT_EQ(status->workers[0].id, "w1");
  auto info = client->info("s");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->turns, static_cast<uint64_t>(kRounds));
}

// The test's side of a worker's broker link: a ROUTER the worker connects to, which keeps
// the worker's lease (welcome, heartbeat acknowledgments) and collects its replies.
class FakeBroker {
 public:
  // What a heartbeat or `ready` from the worker carries that the fake needs.
  struct Numbered {
    uint64_t seq = 0;
    MSGPACK_DEFINE_MAP(seq)
  };
  // `welcome` and `heartbeat` to the worker, acknowledging its number.
  struct Acknowledgment {
    uint64_t heartbeat_ms = 1000;
    uint32_t liveness = 5;
    uint64_t seq = 0;
    uint64_t ack = 0;
    MSGPACK_DEFINE_MAP(heartbeat_ms, liveness, seq, ack)
  };

  FakeBroker() : socket_(context_, zmq::socket_type::router) {
    applyCommonOptions(socket_);
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  }

  const std::string& endpoint() const { return endpoint_; }
  zmq::context_t& context() { return context_; }

  // Handles what the worker sends until `done` holds or the deadline passes.
  bool pumpUntil(const std::function<bool()>& done) {
    return waitFor([&] {
      pump();
      return done();
    });
  }

  // Sends frames (after the worker's routing id).
  void send(const std::vector<std::string>& frames) {
    (void)socket_.send(zmq::buffer(worker_), zmq::send_flags::sndmore);
    for (std::size_t i = 0; i < frames.size(); ++i) {
      (void)socket_.send(zmq::buffer(frames[i]),
                         i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }
  template <class T>
  void sendBody(MessageType type, const T& body) {
    auto buffer = encodeBody(body);
    send({std::string(kProtocolTag), std::string(messageTypeName(type)),
          std::string(buffer.data(), buffer.size())});
  }

  bool welcomed() const { return welcomed_; }
  // The final reply (result or error) of request `id`, if it came.
  std::optional<std::pair<MessageType, msgpack::object_handle>> take(uint64_t id) {
    auto it = finals_.find(id);
    if (it == finals_.end()) return std::nullopt;
    auto final_reply = std::move(it->second);
    finals_.erase(it);
    return final_reply;
  }

 private:
  void pump() {
    std::vector<zmq::message_t> frames;
    bool oversized = false;
    while (receiveMessage(socket_, frames, oversized)) {
      if (frames.size() < 2 || oversized) continue;
      worker_ = frames[0].to_string();
      auto envelope = decodeFrames(std::span<const zmq::message_t>(frames).subspan(1));
      if (!envelope) continue;
      if (envelope->type == MessageType::kReady || envelope->type == MessageType::kHeartbeat) {
        auto numbered = decodeBody<Numbered>(*envelope);
        const bool ready = envelope->type == MessageType::kReady;
        Acknowledgment ack;
        ack.seq = ++heartbeats_;
        ack.ack = numbered ? numbered->seq : 0;
        sendBody(ready ? MessageType::kWelcome : MessageType::kHeartbeat, ack);
        welcomed_ = welcomed_ || ready;
      } else if (envelope->type == MessageType::kResult ||
                 (envelope->type == MessageType::kError && envelope->id != 0)) {
        finals_[envelope->id] = {envelope->type, std::move(envelope->body)};
      }
    }
  }

  zmq::context_t context_;   // the fake's own
  zmq::socket_t socket_;     // ROUTER the worker connects to
  std::string endpoint_;     // where it is bound
  std::string worker_;       // the worker's routing id
  bool welcomed_ = false;    // the worker sent `ready` and got `welcome`
  uint64_t heartbeats_ = 0;  // our heartbeat counter
  std::map<uint64_t, std::pair<MessageType, msgpack::object_handle>> finals_;  // id -> reply
};

TEST(HostileInput, WorkerKeepsAnsweringWhileItsBrokerSendsGarbage) {
  TempDir dir;
  FakeBroker broker;
  Process worker(binaryPath("ccmesh-worker"),
                 {"--broker", broker.endpoint(), "--id", "w-hostile", "--log-level", "debug"},
                 dir.path() + "/worker.log",
                 {{"HOME", dir.path()}, {"CLAUDE_CONFIG_DIR", dir.path() + "/.claude"}});
  ASSERT_TRUE(broker.pumpUntil([&] { return broker.welcomed(); })) << worker.log();
  broker.sendBody(MessageType::kAssign, msg::Assign{1, "s", 1, {}});
  std::optional<std::pair<MessageType, msgpack::object_handle>> assigned;
  ASSERT_TRUE(broker.pumpUntil([&] { return (assigned = broker.take(1)).has_value(); }))
      << worker.log();
  ASSERT_EQ(assigned->first, MessageType::kResult) << worker.log();

  GarbageMaker garbage({MessageType::kAssign, MessageType::kQuery, MessageType::kCancel,
                        MessageType::kTerminate, MessageType::kRestart, MessageType::kWelcome,
                        MessageType::kHeartbeat});
  for (int round = 1; round <= kRounds; ++round) {
    for (int i = 0; i < kGarbagePerRound; ++i) broker.send(garbage.next());
    const uint64_t id = 100 + static_cast<uint64_t>(round);
    const std::string prompt = "round " + std::to_string(round);
    msg::Query query;
    query.id = id;
    query.session = "s";
    query.prompt = prompt;
    query.generation = 1;
    broker.sendBody(MessageType::kQuery, query);
    std::optional<std::pair<MessageType, msgpack::object_handle>> reply;
    ASSERT_TRUE(broker.pumpUntil([&] { return (reply = broker.take(id)).has_value(); }))
        << "round " << round << "\n"
        << worker.log();
    ASSERT_EQ(reply->first, MessageType::kResult) << worker.log();
    auto result = reply->second.get().as<msg::QueryResult>();
    EXPECT_EQ(result.text, "turn " + std::to_string(round) + ": " + prompt);
  }
  EXPECT_TRUE(worker.running());
}

}  // namespace
}  // namespace ccmesh::test
