#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/message_type.hpp"
#include "ccmesh/common/worker_messages.hpp"

namespace ccmesh::worker {

// The worker's side of the backend link: a DEALER socket named after the worker, the queue
// of messages waiting for it, heartbeats on their own timer, and Paranoid-Pirate liveness:
// when the broker has been silent for liveness x heartbeat, the socket is closed and made
// anew (linger 0), with a backoff between attempts, and `ready` is sent again first.
class BrokerLink {
 public:
  // Longest wait between reconnect attempts.
  static constexpr Millis kMaxReconnectBackoff{5000};
  // Queued bytes beyond which events, heartbeats and session updates are dropped (final
  // replies never are).
  static constexpr std::size_t kMaxQueuedBytes = 256u << 20;

  BrokerLink(zmq::context_t& context, std::string endpoint, std::string worker_id, Millis heartbeat,
             uint32_t liveness, const Clock& clock, std::shared_ptr<spdlog::logger> log);

  // Creates the socket, connects, and queues `ready` ahead of everything else.
  void connect(const msg::Ready& ready);
  zmq::socket_t& socket() { return *socket_; }

  // Queues a message; messages go out in order.
  void enqueue(MessageType type, msgpack::sbuffer body);
  template <class T>
  void send(MessageType type, const T& body) {
    enqueue(type, encodeBody(body));
  }
  // Sends queued messages until the socket would block.
  void flush();
  // Something is waiting for the socket to become writable.
  bool wantsWrite() const { return !queue_.empty(); }

  // Any message from the broker: it is alive.
  void noteHeard();
  // `welcome`: the heartbeat settings to use from now on.
  void adopt(const msg::Welcome& welcome);

  // Sends a heartbeat when due. Returns true when the broker has been silent too long and
  // the caller should reconnect (with a fresh `ready`).
  bool onTimer();
  std::optional<TimePoint> nextDeadline() const;

  // Messages dropped because the queue was over kMaxQueuedBytes.
  uint64_t dropped() const { return dropped_; }

 private:
  // One message waiting for the socket.
  struct Outgoing {
    MessageType type;       // its type frame
    msgpack::sbuffer body;  // its body frame
  };

  Millis silenceLimit() const { return heartbeat_ * static_cast<int64_t>(liveness_); }

  zmq::context_t& context_;                // owns the socket's I/O thread
  std::string endpoint_;                   // where the broker's backend listens
  std::string worker_id_;                  // routing id of the socket
  Millis heartbeat_;                       // heartbeat interval
  uint32_t liveness_;                      // heartbeats missed before the broker is dead
  const Clock& clock_;                     // time source
  std::shared_ptr<spdlog::logger> log_;    // the worker's logger
  std::unique_ptr<zmq::socket_t> socket_;  // the DEALER, remade on reconnect
  std::deque<Outgoing> queue_;             // messages not yet accepted by the socket
  std::size_t queued_bytes_ = 0;           // body bytes in queue_
  uint64_t heartbeat_seq_ = 0;             // our heartbeat counter
  TimePoint next_heartbeat_{};             // when the next heartbeat is due
  TimePoint reconnect_due_{};              // reconnect if nothing is heard before this
  Millis reconnect_backoff_;               // wait after the next reconnect attempt
  uint64_t dropped_ = 0;                   // see dropped()
  uint64_t reconnects_ = 0;                // reconnect attempts so far
};

}  // namespace ccmesh::worker
