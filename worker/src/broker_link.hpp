#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/curve_keys.hpp"
#include "ccmesh/common/handshake_watch.hpp"
#include "ccmesh/common/message_type.hpp"
#include "ccmesh/common/worker_messages.hpp"
#include "ccmesh/worker/lease.hpp"
#include "ccmesh/worker/worker_meter.hpp"

namespace ccmesh::worker {

// The worker's side of the backend link: a DEALER socket named after the worker, the queue
// of messages waiting for it, heartbeats on their own timer, and Paranoid-Pirate liveness:
// when the broker has been silent for liveness x heartbeat, the socket is closed and made
// anew (linger 0), with a backoff between attempts, and `ready` is sent again first. It
// also keeps the worker's Lease: `ready` and heartbeats are numbered, and the broker's
// acknowledgments renew the lease from when they were sent.
class BrokerLink {
 public:
  // Longest wait between reconnect attempts.
  static constexpr Millis kMaxReconnectBackoff{5000};
  // Queued bytes beyond which events, heartbeats and session updates are dropped (final
  // replies never are).
  static constexpr std::size_t kMaxQueuedBytes = 256u << 20;

  // `endpoints`: the broker's backend, or with high availability the backends of every
  // broker of the cluster, comma-separated.
  BrokerLink(zmq::context_t& context, const std::string& endpoints, std::string worker_id,
             Millis heartbeat, uint32_t liveness, const Clock& clock,
             std::shared_ptr<spdlog::logger> log);

  // Talks CURVE with these keys from the next connect() on.
  void useCurve(CurveClientKeys keys) { curve_ = std::move(keys); }

  // Creates the socket, connects, and queues `ready` ahead of everything else. Numbers
  // `ready` (its seq) and says whether a broker welcomed this worker before.
  void connect(msg::Ready ready);
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
  // `welcome`: the heartbeat settings to use from now on; renews the lease. Returns the
  // round trip of `ready` (see onHeartbeat).
  std::optional<WorkerMeter::Seconds> adopt(const msg::Welcome& welcome);
  // A broker heartbeat: its ack renews the lease. Returns the time since the acknowledged
  // message was sent, the first time it is acknowledged (the broker repeats its last ack on
  // its own heartbeats).
  std::optional<WorkerMeter::Seconds> onHeartbeat(const msg::Heartbeat& heartbeat) {
    return acknowledged(heartbeat.ack);
  }
  // `ready` went out on this connection and no `welcome` has answered it yet (nor a
  // standby's refusal: see notServing).
  bool awaitingWelcome() const { return awaiting_welcome_ && !ready_refused_; }
  // A standby that knows no leader answered (not_leader without a leader): its next
  // `rejoin` (once it leads) is answered with a fresh `ready`; its answers do not count as
  // word from a broker, so that with several brokers the next one is tried after a
  // heartbeat.
  void notServing();
  // The right to run sessions (see Lease).
  Lease& lease() { return lease_; }
  const Lease& lease() const { return lease_; }

  // Sends a heartbeat when due. Returns true when the broker has been silent too long and
  // the caller should reconnect (with a fresh `ready`). With several brokers, silence of two
  // heartbeats is enough, and the reconnect goes to the next one: a standby names the
  // leader, and the worker's lease (liveness x heartbeat) must not lapse meanwhile.
  bool onTimer();

  // A standby named the leader (not_leader): the next connect() goes there. False if it is
  // the broker of this connection already.
  bool redirect(const std::string& leader);
  // The broker talked to now.
  const std::string& endpoint() const { return endpoint_; }

  // High availability: a leader's message carries its term. True if `term` is not older than
  // the newest seen (which it then becomes); an older one is refused and counted.
  bool acceptTerm(uint64_t term);
  uint64_t term() const { return term_; }
  // Messages refused for an older term.
  uint64_t staleTerms() const { return stale_terms_; }
  std::optional<TimePoint> nextDeadline() const;

  // Messages dropped because the queue was over kMaxQueuedBytes.
  uint64_t dropped() const { return dropped_; }
  // Connections made anew after the first.
  uint64_t reconnects() const { return reconnects_; }
  // The broker's `welcome` answered the current connection's `ready`.
  bool registered() const { return welcomed_ && !awaiting_welcome_; }

  // The security handshakes of the current connection, as of the last onTimer() (which
  // drains it: poll its socket to run onTimer as soon as one ends).
  HandshakeWatch* handshakes() { return watch_.get(); }

 private:
  // One message waiting for the socket.
  struct Outgoing {
    MessageType type;       // its type frame
    msgpack::sbuffer body;  // its body frame
  };

  Millis silenceLimit() const { return heartbeat_ * static_cast<int64_t>(liveness_); }
  // How long a silent broker is waited for before reconnecting (see onTimer).
  Millis reconnectSilence() const {
    return endpoints_.size() > 1 ? std::min(silenceLimit(), heartbeat_ * 2) : silenceLimit();
  }
  // Renews the lease with the broker's ack of `seq`; its round trip if it is a new ack.
  std::optional<WorkerMeter::Seconds> acknowledged(uint64_t seq);

  zmq::context_t& context_;                // owns the socket's I/O thread
  std::vector<std::string> endpoints_;     // every broker's backend (one without HA)
  std::string endpoint_;                   // the one connected to now
  std::string worker_id_;                  // routing id of the socket
  Millis heartbeat_;                       // heartbeat interval
  uint32_t liveness_;                      // heartbeats missed before the broker is dead
  const Clock& clock_;                     // time source
  std::shared_ptr<spdlog::logger> log_;    // the worker's logger
  std::unique_ptr<zmq::socket_t> socket_;  // the DEALER, remade on reconnect
  std::optional<CurveClientKeys> curve_;   // CURVE keys, if the broker wants them
  std::unique_ptr<HandshakeWatch> watch_;  // reports refused security handshakes
  std::deque<Outgoing> queue_;             // messages not yet accepted by the socket
  std::size_t queued_bytes_ = 0;           // body bytes in queue_
  uint64_t heartbeat_seq_ = 0;             // our heartbeat counter
  TimePoint next_heartbeat_{};             // when the next heartbeat is due
  TimePoint reconnect_due_{};              // reconnect if nothing is heard before this
  Millis reconnect_backoff_;               // wait after the next reconnect attempt
  uint64_t dropped_ = 0;                   // see dropped()
  uint64_t reconnects_ = 0;                // reconnect attempts so far
  Lease lease_;                            // renewed by the broker's acknowledgments
  uint64_t last_ack_ = 0;                  // the newest seq the broker acknowledged
  bool welcomed_ = false;                  // a broker has welcomed this worker
  bool awaiting_welcome_ = false;          // see awaitingWelcome()
  std::size_t queued_heartbeats_ = 0;      // heartbeats in queue_ (one is enough)
  uint64_t term_ = 0;                      // the newest leader term seen
  uint64_t stale_terms_ = 0;               // see staleTerms()
  bool rotate_ = false;                    // the next connect() goes to the next endpoint
  bool ready_refused_ = false;             // see notServing()
  bool not_serving_ = false;               // see notServing()
};

}  // namespace ccmesh::worker
