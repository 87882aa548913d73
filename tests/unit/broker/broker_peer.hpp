#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/broker/broker.hpp"
#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/message_type.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/worker_messages.hpp"

namespace ccmesh::broker::testing {

// How long a test waits for something it expects before failing (real time; the broker's
// timers run on a ManualClock).
inline constexpr Millis kPatience{2000};

// One message a peer received.
struct Received {
  MessageType type = MessageType::kError;  // frame 1
  msgpack::object_handle body;             // frame 2, decoded

  // The body as a typed message.
  template <class T>
  T as() const {
    T value;
    body.get().convert(value);
    return value;
  }
};

// A DEALER playing a client or a worker against an in-process Broker. Waiting pumps the
// broker's loop, so a test is one thread and never sleeps to synchronise.
class BrokerPeer {
 public:
  BrokerPeer(zmq::context_t& context, const std::string& endpoint,
             const std::string& routing_id = {});

  template <class T>
  void send(MessageType type, const T& body) {
    auto buffer = encodeBody(body);
    sendFrames({std::string(kProtocolTag), std::string(messageTypeName(type)),
                std::string(buffer.data(), buffer.size())});
  }

  // Sends arbitrary frames (for malformed input).
  void sendFrames(const std::vector<std::string>& frames);

  // The next message other than a heartbeat (unless `heartbeats_too`), pumping `broker` up
  // to `within`.
  std::optional<Received> next(Broker& broker, Millis within = kPatience,
                               bool heartbeats_too = false);

  // The next message, which must be of `type`; throws (failing the test) otherwise.
  Received expect(Broker& broker, MessageType type);

  // Pumps the broker for a while and fails if anything but a heartbeat arrived.
  void expectSilence(Broker& broker, Millis during = Millis(30));

  // Heartbeats skipped so far.
  std::size_t heartbeats() const { return heartbeats_; }

  // Closes the socket (the peer vanishes).
  void close() { socket_.close(); }

 private:
  zmq::socket_t socket_;        // the DEALER
  std::size_t heartbeats_ = 0;  // heartbeats skipped by next()
};

// A worker's final answer to query `id`.
inline msg::QueryResult answer(uint64_t id, const std::string& session, const std::string& text) {
  msg::QueryResult result;
  result.id = id;
  result.session = session;
  result.text = text;
  return result;
}

// A body written pair by pair: `pairs` pairs, each a key and what `write` packs after it.
inline std::string bodyOf(
    const std::vector<
        std::pair<std::string, std::function<void(msgpack::packer<msgpack::sbuffer>&)>>>& pairs) {
  msgpack::sbuffer body;
  msgpack::packer<msgpack::sbuffer> packer(body);
  packer.pack_map(static_cast<uint32_t>(pairs.size()));
  for (const auto& [key, write] : pairs) {
    packer.pack(key);
    write(packer);
  }
  return std::string(body.data(), body.size());
}

// A broker on inproc endpoints with a ManualClock, and helpers to attach peers.
class BrokerFixture : public ::testing::Test {
 protected:
  BrokerFixture();

  // Creates the broker from config_ (tests may change config_ first).
  void startBroker();

  std::unique_ptr<BrokerPeer> client();

  // Connects a worker, sends `ready` and waits for `welcome`.
  std::unique_ptr<BrokerPeer> joinWorker(const std::string& id, uint32_t capacity,
                                         std::vector<msg::SessionReport> sessions = {});

  // Sends a request from `peer` and returns the reply (result or error).
  template <class T>
  Received ask(BrokerPeer& peer, MessageType type, const T& body) {
    peer.send(type, body);
    auto reply = peer.next(*broker_);
    if (!reply) throw std::runtime_error("no reply to " + std::string(messageTypeName(type)));
    return std::move(*reply);
  }

  // Advances the clock by `total` in steps, each worker sending a heartbeat at every step
  // so that only the others fall silent.
  void advanceKeepingAlive(Millis total, const std::vector<BrokerPeer*>& alive);

  zmq::context_t context_;          // first member: destroyed last
  ManualClock clock_;               // the broker's time
  BrokerConfig config_;             // what startBroker() uses
  std::unique_ptr<Broker> broker_;  // the broker under test
};

}  // namespace ccmesh::broker::testing
