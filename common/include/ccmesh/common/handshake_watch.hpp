#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <zmq.hpp>

namespace ccmesh {

// Watches a connecting socket's security handshakes through a ZeroMQ socket monitor. A
// CURVE handshake the broker refuses is silent at the message level (messages just never
// get through), so a client or worker learns of it here: wrong or unknown keys, or one side
// speaking CURVE and the other not. A connection that closes in the middle of a handshake
// counts as a refusal only on a CURVE socket (a broker with other keys closes it so); on a
// plain one it is a broker that died or restarted, and the socket simply reconnects. A
// later successful handshake clears the failure. The
// monitor stops by itself when the watched socket closes, so either may go first.
class HandshakeWatch {
 public:
  // Starts monitoring `socket` (call before it connects). `context` must be the socket's.
  HandshakeWatch(zmq::context_t& context, zmq::socket_t& socket);
  HandshakeWatch(const HandshakeWatch&) = delete;
  HandshakeWatch& operator=(const HandshakeWatch&) = delete;

  // The monitor socket, for zmq::poll next to the watched one.
  zmq::socket_t& socket() { return monitor_; }

  // Reads every event waiting, without blocking. True if the failure state changed.
  bool drain();

  // Why the last handshake failed, for people; nothing after a success (or before any).
  const std::optional<std::string>& failure() const { return failure_; }

  // True once a handshake succeeded and none failed since.
  bool succeeded() const { return succeeded_; }

  // The last failure was the broker's verdict (it refused the key, or the two sides do not
  // speak the same security mechanism), not a connection closed mid-handshake: trying again
  // cannot help.
  bool refused() const { return refused_; }

  // Handshakes that failed since the last one that succeeded (or since the start).
  uint32_t failuresInARow() const { return failures_in_a_row_; }

  // Since drain() last read it, whether a handshake with `endpoint` ever succeeded, and
  // whether a connection to it failed or closed (a refused connect, a peer that went away).
  // A client of several brokers uses them to tell a request that never left from one whose
  // broker died with it.
  struct Reach {
    bool reached = false;  // a handshake with it succeeded
    bool lost = false;     // a connection to it failed or closed
  };
  Reach reachOf(const std::string& endpoint) const;
  // Forgets what was seen of `endpoint` (before connecting to it again).
  void forget(const std::string& endpoint) { reach_.erase(endpoint); }

 private:
  zmq::socket_t& watched_;              // the socket watched (outlives every drain())
  zmq::socket_t monitor_;               // PAIR receiving the monitor's events
  std::optional<std::string> failure_;  // see failure()
  bool succeeded_ = false;              // see succeeded()
  bool refused_ = false;                // see refused()
  uint32_t failures_in_a_row_ = 0;      // see failuresInARow()
  std::map<std::string, Reach> reach_;  // see reachOf()
};

}  // namespace ccmesh
