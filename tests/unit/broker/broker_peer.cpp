#include "broker_peer.hpp"

#include <sstream>
#include <stdexcept>
#include <zmq_addon.hpp>

namespace ccmesh::broker::testing {

BrokerPeer::BrokerPeer(zmq::context_t& context, const std::string& endpoint,
                       const std::string& routing_id)
    : socket_(context, zmq::socket_type::dealer) {
  socket_.set(zmq::sockopt::linger, 0);
  if (!routing_id.empty()) socket_.set(zmq::sockopt::routing_id, routing_id);
  socket_.connect(endpoint);
}

void BrokerPeer::sendFrames(const std::vector<std::string>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    socket_.send(zmq::buffer(frames[i]), flags);
  }
}

std::optional<Received> BrokerPeer::next(Broker& broker, Millis within, bool heartbeats_too) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<zmq::message_t> frames;
    if (zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      if (frames.size() != 3 || frames[0].to_string_view() != kProtocolTag) {
        throw std::runtime_error("peer received a message that is not [CCM1][type][body]");
      }
      auto type = parseMessageType(frames[1].to_string_view());
      if (!type) throw std::runtime_error("peer received unknown type " + frames[1].to_string());
      if (*type == MessageType::kHeartbeat && !heartbeats_too) {
        ++heartbeats_;
        continue;
      }
      Received received;
      received.type = *type;
      received.body = msgpack::unpack(static_cast<const char*>(frames[2].data()), frames[2].size());
      return received;
    }
    broker.pollOnce(Millis(2));
  }
  return std::nullopt;
}

Received BrokerPeer::expect(Broker& broker, MessageType type) {
  auto received = next(broker);
  if (!received) {
    throw std::runtime_error("waited " + std::to_string(kPatience.count()) + " ms for '" +
                             std::string(messageTypeName(type)) + "', got nothing");
  }
  if (received->type != type) {
    std::ostringstream body;
    body << received->body.get();
    throw std::runtime_error("waited for '" + std::string(messageTypeName(type)) + "', got '" +
                             std::string(messageTypeName(received->type)) + "' " + body.str());
  }
  return std::move(*received);
}

void BrokerPeer::expectSilence(Broker& broker, Millis during) {
  if (auto received = next(broker, during)) {
    std::ostringstream body;
    body << received->body.get();
    ADD_FAILURE() << "expected silence, got '" << messageTypeName(received->type) << "' "
                  << body.str();
  }
}

BrokerFixture::BrokerFixture() : context_(1) {
  config_.frontend = "inproc://frontend";
  config_.backend = "inproc://backend";
}

void BrokerFixture::startBroker() { broker_ = std::make_unique<Broker>(config_, context_, clock_); }

std::unique_ptr<BrokerPeer> BrokerFixture::client() {
  return std::make_unique<BrokerPeer>(context_, config_.frontend);
}

std::unique_ptr<BrokerPeer> BrokerFixture::joinWorker(const std::string& id, uint32_t capacity,
                                                      std::vector<msg::SessionReport> sessions) {
  auto worker = std::make_unique<BrokerPeer>(context_, config_.backend, id);
  worker->send(MessageType::kReady, msg::Ready{id, capacity, {}, std::move(sessions), "0.1.0"});
  auto welcome = worker->expect(*broker_, MessageType::kWelcome).as<msg::Welcome>();
  EXPECT_EQ(welcome.heartbeat_ms, static_cast<uint64_t>(config_.heartbeat.count()));
  EXPECT_EQ(welcome.liveness, config_.liveness);
  return worker;
}

}  // namespace ccmesh::broker::testing

namespace ccmesh::broker::testing {

void BrokerFixture::advanceKeepingAlive(Millis total, const std::vector<BrokerPeer*>& alive) {
  const Millis step = config_.heartbeat / 2;
  for (Millis done{0}; done < total; done += step) {
    clock_.advance(std::min(step, total - done));
    for (auto* peer : alive) peer->send(MessageType::kHeartbeat, msg::Heartbeat{1, 0});
    for (int i = 0; i < 3; ++i) broker_->pollOnce(Millis(2));
  }
}

}  // namespace ccmesh::broker::testing
