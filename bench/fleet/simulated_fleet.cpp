#include "simulated_fleet.hpp"

#include <chrono>
#include <iostream>
#include <memory>
#include <queue>
#include <span>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/socket_io.hpp"
#include "ccmesh/common/version.hpp"
#include "ccmesh/common/worker_messages.hpp"
#include "delta_coalescer.hpp"

namespace ccmesh::bench {
namespace {

// Heartbeats go out in this many batches per interval, spread evenly over it.
constexpr std::size_t kBatchesPerInterval = 10;

using Clock = std::chrono::steady_clock;

// A query waiting for its answer's time.
struct PendingAnswer {
  Clock::time_point due;
  std::size_t worker = 0;  // index of the socket it came on
  std::string client;      // the relay's client frame; empty from the broker
  uint64_t id = 0;
  std::string session;
  bool merged = false;  // stream through the coalescer
  bool operator>(const PendingAnswer& other) const { return due > other.due; }
};

class FleetLoop {
 public:
  explicit FleetLoop(const FleetShape& shape) : shape_(shape) {
    delta_text_.assign(shape.delta_bytes, 'x');
    answer_text_.reserve(shape.deltas * shape.delta_bytes);
    for (std::size_t i = 0; i < shape.deltas; ++i) answer_text_ += delta_text_;
    context_.set(zmq::ctxopt::max_sockets, static_cast<int>(shape.count + 16));
    for (std::size_t i = 0; i < shape.count; ++i) {
      auto socket = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
      applyCommonOptions(*socket);
      socket->set(zmq::sockopt::sndhwm, 0);  // answers are never dropped or refused
      socket->set(zmq::sockopt::rcvhwm, 0);
      ids_.push_back(shape.prefix + "-" + std::to_string(shape.first + i));
      socket->set(zmq::sockopt::routing_id, ids_.back());
      socket->connect(shape.backend);
      sockets_.push_back(std::move(socket));
      items_.push_back({sockets_.back()->handle(), 0, ZMQ_POLLIN, 0});
    }
    seq_.assign(shape.count, 0);
  }

  [[noreturn]] void run() {
    for (std::size_t i = 0; i < sockets_.size(); ++i) sendReady(i);
    const Clock::duration batch_interval =
        std::chrono::duration_cast<Clock::duration>(shape_.heartbeat) /
        static_cast<long>(kBatchesPerInterval);
    Clock::time_point next_batch = Clock::now() + batch_interval;
    std::size_t batch = 0;
    while (true) {
      auto now = Clock::now();
      if (now >= next_batch) {
        // Batch b beats for workers b, b + batches, b + 2 * batches, ...
        for (std::size_t i = batch; i < sockets_.size(); i += kBatchesPerInterval) {
          sendBody(*sockets_[i], {}, MessageType::kHeartbeat, msg::Heartbeat{++seq_[i], 0, 0});
        }
        batch = (batch + 1) % kBatchesPerInterval;
        next_batch += batch_interval;
      }
      while (!pending_.empty() && pending_.top().due <= now) {
        answer(pending_.top());
        pending_.pop();
      }
      Clock::time_point wake = next_batch;
      if (!pending_.empty()) wake = std::min(wake, pending_.top().due);
      const auto wait = std::chrono::ceil<Millis>(wake - Clock::now());
      zmq::poll(items_.data(), items_.size(), std::max(wait, Millis(0)));
      for (std::size_t i = 0; i < sockets_.size(); ++i) {
        if (!(items_[i].revents & ZMQ_POLLIN)) continue;
        bool oversized = false;
        while (receiveMessage(*sockets_[i], frames_, oversized)) onMessage(i);
      }
    }
  }

 private:
  void sendReady(std::size_t i) {
    msg::Ready ready;
    ready.worker = ids_[i];
    ready.capacity = shape_.capacity;
    ready.version = std::string(kVersion);
    ready.seq = ++seq_[i];
    sendBody(*sockets_[i], {}, MessageType::kReady, ready);
  }

  void onMessage(std::size_t i) {
    // From the relay: [client][CCM1][type][body]; from the broker: [CCM1][type][body].
    std::string client;
    std::span<const zmq::message_t> frames(frames_);
    if (frames.size() == 4) {
      client = frames[0].to_string();
      frames = frames.subspan(1);
    }
    auto envelope = decodeFrames(frames);
    if (!envelope) return;
    switch (envelope->type) {
      case MessageType::kRejoin:
        return sendReady(i);
      case MessageType::kQuery: {
        auto query = decodeBody<msg::Query>(*envelope);
        if (!query) return;
        sendMessage(*sockets_[i], client, MessageType::kDelivered,
                    encodeBody(msg::Delivered{query->id}));
        const bool merged = query->prompt.starts_with(kMergedPrompt);
        PendingAnswer pending{
            Clock::now() + shape_.answer_delay, i,     std::move(client), query->id,
            std::move(query->session),          merged};
        if (shape_.answer_delay.count() == 0) return answer(pending);
        pending_.push(std::move(pending));
        return;
      }
      case MessageType::kAssign:
      case MessageType::kStart:
      case MessageType::kTerminate:
      case MessageType::kRestart: {
        if (envelope->id == 0) return;
        msg::Ack ack;
        ack.id = envelope->id;
        ack.worker = ids_[i];
        if (envelope->type == MessageType::kAssign) {
          auto assign = decodeBody<msg::Assign>(*envelope);
          if (!assign) return;
          ack.session = assign->session;
          ack.generation = assign->generation;
          if (shape_.report_assigned) std::cout << "assigned " << assign->session << std::endl;
        }
        ack.state = envelope->type == MessageType::kTerminate ? "stopped" : "hibernated";
        sendMessage(*sockets_[i], client, MessageType::kResult, encodeBody(ack));
        return;
      }
      default:
        return;  // welcome, heartbeats, acks: nothing to answer
    }
  }

  void answer(const PendingAnswer& pending) {
    auto& socket = *sockets_[pending.worker];
    msg::Event event{pending.id, 0, "delta", delta_text_};
    if (pending.merged) {
      // The deltas of one read of a CLI's output: what a real worker sends for them.
      const TimePoint now = SteadyClock().now();
      events_.clear();
      for (std::size_t d = 0; d < shape_.deltas; ++d) {
        event.seq = d;
        coalescer_.add(event, now, false, events_);
      }
      if (auto held = coalescer_.finish(pending.id)) events_.push_back(std::move(*held));
      for (const auto& merged : events_) {
        sendMessage(socket, pending.client, MessageType::kEvent, encodeBody(merged));
      }
    } else {
      for (std::size_t d = 0; d < shape_.deltas; ++d) {
        event.seq = d;
        sendMessage(socket, pending.client, MessageType::kEvent, encodeBody(event));
      }
    }
    msg::QueryResult result;
    result.id = pending.id;
    result.session = pending.session;
    result.text = answer_text_;
    result.session_id = "simulated";
    result.worker = ids_[pending.worker];
    sendMessage(socket, pending.client, MessageType::kResult, encodeBody(result));
  }

  const FleetShape& shape_;
  std::string delta_text_;   // one delta's text
  std::string answer_text_;  // the whole answer
  zmq::context_t context_{1};
  std::vector<std::unique_ptr<zmq::socket_t>> sockets_;  // one per worker
  std::vector<std::string> ids_;                         // worker ids, by socket
  std::vector<zmq::pollitem_t> items_;                   // by socket
  std::vector<uint64_t> seq_;                            // heartbeat counters, by socket
  std::vector<zmq::message_t> frames_;                   // the message being read
  worker::DeltaCoalescer coalescer_{worker::DeltaCoalescer::Settings{}};  // as a worker's
  std::vector<msg::Event> events_;  // what the coalescer gives to send
  std::priority_queue<PendingAnswer, std::vector<PendingAnswer>, std::greater<>> pending_;
};

}  // namespace

SimulatedFleet::SimulatedFleet(FleetShape shape) : shape_(std::move(shape)) {}

void SimulatedFleet::run() {
  FleetLoop loop(shape_);
  loop.run();
}

}  // namespace ccmesh::bench
