#include "echo_limit.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <vector>
#include <zmq_addon.hpp>

namespace ccmesh::bench {
namespace {

using SteadyTime = std::chrono::steady_clock;

constexpr int kPollMillis = 20;           // how soon a thread notices stop_
constexpr int kSendTimeoutMillis = 5000;  // a send that waits longer gives up
constexpr int kReplyTimeoutMillis = 30000;
// The same send queue bounds as ccmesh's broker, so both sides queue alike.
constexpr int kClientSendHwm = 100000;
constexpr int kWorkerSendHwm = 1000000;
const std::string kTag = "CCM1";
const std::string kWorkerId = "echo-worker";

// Receives the frames of one message without waiting; false if none is queued.
bool receiveAll(zmq::socket_t& socket, std::vector<zmq::message_t>& frames) {
  frames.clear();
  return zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait)
      .has_value();
}

// Sends frames as one message, blocking up to the socket's send timeout. False when it
// timed out or the peer is not connected (ROUTER_MANDATORY).
bool sendAll(zmq::socket_t& socket, std::vector<zmq::message_t>& frames) {
  try {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
      if (!socket.send(frames[i], flags)) return false;
    }
  } catch (const zmq::error_t&) {
    return false;
  }
  return true;
}

std::string bindRouter(zmq::socket_t& socket, int send_hwm) {
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::router_mandatory, 1);
  socket.set(zmq::sockopt::sndhwm, send_hwm);
  socket.set(zmq::sockopt::sndtimeo, kSendTimeoutMillis);
  socket.bind("tcp://127.0.0.1:*");
  return socket.get(zmq::sockopt::last_endpoint);
}

}  // namespace

EchoLimit::EchoLimit()
    : frontend_socket_(broker_context_, zmq::socket_type::router),
      backend_socket_(broker_context_, zmq::socket_type::router),
      client_(client_context_, zmq::socket_type::dealer) {
  frontend_ = bindRouter(frontend_socket_, kClientSendHwm);
  backend_ = bindRouter(backend_socket_, kWorkerSendHwm);
  broker_ = std::thread([this] { runBroker(); });
  worker_ = std::thread([this] { runWorker(); });
  client_.set(zmq::sockopt::linger, 0);
  client_.connect(frontend_);
  // Requests sent before the worker connected are dropped by the broker loop: ask until
  // one round trip comes back, then take the answers to the other asks too.
  zmq::pollitem_t item{client_.handle(), 0, ZMQ_POLLIN, 0};
  for (int attempt = 0;; ++attempt) {
    sendRequest("query", "warm-up");
    if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) > 0) break;
    if (attempt == 100) throw std::runtime_error("echo limit: no round trip within 10 s");
  }
  std::vector<zmq::message_t> late;
  do {
    while (receiveAll(client_, late)) {
    }
  } while (zmq::poll(&item, 1, std::chrono::milliseconds(200)) > 0);
}

EchoLimit::~EchoLimit() {
  stop_.store(true);
  if (worker_.joinable()) worker_.join();
  if (broker_.joinable()) broker_.join();
}

void EchoLimit::sendRequest(const std::string& type, const std::string& body) {
  client_.send(zmq::buffer(kTag), zmq::send_flags::sndmore);
  client_.send(zmq::buffer(type), zmq::send_flags::sndmore);
  client_.send(zmq::buffer(body), zmq::send_flags::none);
}

std::string EchoLimit::receiveReply() {
  zmq::pollitem_t item{client_.handle(), 0, ZMQ_POLLIN, 0};
  std::vector<zmq::message_t> frames;
  const auto deadline = SteadyTime::now() + std::chrono::milliseconds(kReplyTimeoutMillis);
  while (!receiveAll(client_, frames)) {
    if (SteadyTime::now() >= deadline) throw std::runtime_error("echo limit: reply timed out");
    zmq::poll(&item, 1, std::chrono::milliseconds(kPollMillis));
  }
  if (frames.size() != 3) throw std::runtime_error("echo limit: malformed reply");
  return frames[1].to_string();
}

LatencySamples EchoLimit::roundTrips(std::size_t count, const std::string& payload) {
  LatencySamples samples;
  samples.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto start = SteadyTime::now();
    sendRequest("query", payload);
    receiveReply();
    samples.add(SteadyTime::now() - start);
  }
  return samples;
}

double EchoLimit::throughput(std::size_t in_flight, std::size_t count, const std::string& payload) {
  const auto start = SteadyTime::now();
  std::size_t sent = 0;
  for (; sent < in_flight && sent < count; ++sent) sendRequest("query", payload);
  for (std::size_t received = 0; received < count; ++received) {
    receiveReply();
    if (sent < count) {
      sendRequest("query", payload);
      ++sent;
    }
  }
  const std::chrono::duration<double> elapsed = SteadyTime::now() - start;
  return static_cast<double>(count) / elapsed.count();
}

double EchoLimit::stream(std::size_t count, const std::string& frame) {
  std::string request(sizeof(uint64_t), '\0');
  const uint64_t frames = count;
  std::memcpy(request.data(), &frames, sizeof frames);
  request += frame;
  const auto start = SteadyTime::now();
  sendRequest("stream", request);
  std::size_t events = 0;
  while (receiveReply() == "event") ++events;
  const std::chrono::duration<double> elapsed = SteadyTime::now() - start;
  if (events != count) throw std::runtime_error("echo limit: frames were lost");
  return static_cast<double>(events) / elapsed.count();
}

void EchoLimit::runBroker() {
  std::array<zmq::pollitem_t, 2> items{{{frontend_socket_.handle(), 0, ZMQ_POLLIN, 0},
                                        {backend_socket_.handle(), 0, ZMQ_POLLIN, 0}}};
  std::vector<zmq::message_t> frames;
  while (!stop_.load(std::memory_order_relaxed)) {
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(kPollMillis));
    // Client -> worker: [client][...] becomes [worker][client][...].
    while (receiveAll(frontend_socket_, frames)) {
      frames.insert(frames.begin(), zmq::message_t(kWorkerId.data(), kWorkerId.size()));
      sendAll(backend_socket_, frames);
    }
    // Worker -> client: [worker][client][...] becomes [client][...].
    while (receiveAll(backend_socket_, frames)) {
      if (frames.size() < 2) continue;
      frames.erase(frames.begin());
      sendAll(frontend_socket_, frames);
    }
  }
}

void EchoLimit::runWorker() {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::routing_id, kWorkerId);
  socket.set(zmq::sockopt::sndtimeo, kSendTimeoutMillis);
  socket.connect(backend_);
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  std::vector<zmq::message_t> frames;
  const std::string event = "event";
  const std::string result = "result";
  while (!stop_.load(std::memory_order_relaxed)) {
    zmq::poll(&item, 1, std::chrono::milliseconds(kPollMillis));
    while (receiveAll(socket, frames)) {
      // [client][CCM1][type][body]
      if (frames.size() != 4) continue;
      const zmq::message_t& client = frames[0];
      if (frames[2].to_string_view() == "stream" && frames[3].size() >= sizeof(uint64_t)) {
        uint64_t count = 0;
        std::memcpy(&count, frames[3].data(), sizeof count);
        const auto* body = static_cast<const char*>(frames[3].data()) + sizeof count;
        const std::size_t body_size = frames[3].size() - sizeof count;
        for (uint64_t i = 0; i < count && !stop_.load(std::memory_order_relaxed); ++i) {
          std::vector<zmq::message_t> out;
          out.emplace_back(client.data(), client.size());
          out.emplace_back(kTag.data(), kTag.size());
          out.emplace_back(event.data(), event.size());
          out.emplace_back(body, body_size);
          if (!sendAll(socket, out)) break;
        }
        frames[2].rebuild(result.data(), result.size());
        frames[3].rebuild(0);
      } else {
        frames[2].rebuild(result.data(), result.size());
      }
      sendAll(socket, frames);
    }
  }
}

}  // namespace ccmesh::bench
