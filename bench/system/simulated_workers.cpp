#include "simulated_workers.hpp"

#include <memory>
#include <vector>

#include "ccmesh/common/socket_io.hpp"
#include "ccmesh/common/version.hpp"
#include "ccmesh/common/worker_messages.hpp"

namespace ccmesh::bench {
namespace {

// Heartbeats go out in this many batches per interval, spread evenly over it.
constexpr int kBatchesPerInterval = 10;

}  // namespace

SimulatedWorkers::SimulatedWorkers(std::string backend, std::size_t count, Millis heartbeat)
    : backend_(std::move(backend)), count_(count), heartbeat_(heartbeat) {
  context_.set(zmq::ctxopt::max_sockets, static_cast<int>(count_ + 16));
  thread_ = std::thread([this] { run(); });
}

SimulatedWorkers::~SimulatedWorkers() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void SimulatedWorkers::run() {
  // The sockets belong to this thread: made, used and closed here.
  std::vector<std::unique_ptr<zmq::socket_t>> sockets;
  for (std::size_t i = 0; i < count_; ++i) {
    auto socket = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    applyCommonOptions(*socket);
    socket->set(zmq::sockopt::routing_id, "simulated-" + std::to_string(i));
    socket->connect(backend_);
    sockets.push_back(std::move(socket));
  }
  auto sendReady = [&](std::size_t i) {
    msg::Ready ready;
    ready.worker = "simulated-" + std::to_string(i);
    ready.capacity = 1;
    ready.version = std::string(kVersion);
    sendBody(*sockets[i], {}, MessageType::kReady, ready);
  };
  for (std::size_t i = 0; i < count_; ++i) sendReady(i);
  std::vector<zmq::pollitem_t> items;
  for (auto& socket : sockets) items.push_back({socket->handle(), 0, ZMQ_POLLIN, 0});
  std::vector<uint64_t> seq(count_, 0);
  std::vector<zmq::message_t> frames;
  const Millis batch_interval = heartbeat_ / kBatchesPerInterval;
  auto next_batch = std::chrono::steady_clock::now();
  std::size_t batch = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_batch) {
      // Batch b sends for workers b, b + batches, b + 2 * batches, ...
      for (std::size_t i = batch; i < count_; i += kBatchesPerInterval) {
        if (sendBody(*sockets[i], {}, MessageType::kHeartbeat, msg::Heartbeat{++seq[i], 0}) ==
            SendStatus::kSent) {
          sent_.fetch_add(1, std::memory_order_relaxed);
        }
      }
      batch = (batch + 1) % kBatchesPerInterval;
      next_batch += batch_interval;
    }
    const auto wait = std::chrono::ceil<Millis>(next_batch - std::chrono::steady_clock::now());
    zmq::poll(items.data(), items.size(), std::max(wait, Millis(0)));
    for (std::size_t i = 0; i < count_; ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      bool oversized = false;
      while (receiveMessage(*sockets[i], frames, oversized)) {
        received_.fetch_add(1, std::memory_order_relaxed);
        // A broker that declared this worker dead asks it to register again.
        if (frames.size() == 3 && frames[1].to_string_view() == "rejoin") {
          rejoins_.fetch_add(1, std::memory_order_relaxed);
          sendReady(i);
        }
      }
    }
  }
}

}  // namespace ccmesh::bench
