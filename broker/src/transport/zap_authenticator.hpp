#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/broker/access_control.hpp"
#include "rate_limited_log.hpp"

namespace ccmesh::broker {

// The broker's ZAP handler (RFC 27): a ROUTER bound to inproc://zeromq.zap.01 in the broker's
// context, serviced by the broker's own poll loop. libzmq asks it about every CURVE
// handshake on the frontend and backend; it answers 200 with the client's public key as
// User-Id when the key is in the allow-list of the port's ZAP domain, and 400 otherwise.
// Must exist before the CURVE sockets bind (they refuse everyone while no handler runs).
class ZapAuthenticator {
 public:
  static constexpr const char* kEndpoint = "inproc://zeromq.zap.01";

  // Called with the peer's address for every handshake refused.
  using OnRefused = std::function<void(const std::string& address)>;

  // Binds the handler socket. Throws ConfigError if another handler holds the endpoint.
  ZapAuthenticator(zmq::context_t& context, const AccessControl& access, OnRefused on_refused,
                   RateLimitedLog& warnings, std::shared_ptr<spdlog::logger> logger);

  zmq::socket_t& socket() { return socket_; }

  // Answers up to `budget` waiting requests, without blocking.
  void drain(int budget);

 private:
  // Answers one request ([routing id][""][version][request id][domain][address][identity]
  // [mechanism][credentials...]).
  void answer(std::vector<zmq::message_t>& frames);

  const AccessControl& access_;             // the allow-lists
  OnRefused on_refused_;                    // counts refused handshakes
  RateLimitedLog& warnings_;                // refusals, rate-limited
  std::shared_ptr<spdlog::logger> logger_;  // accepted handshakes (debug)
  zmq::socket_t socket_;                    // ROUTER on kEndpoint
  std::vector<zmq::message_t> frames_;      // receive buffer, reused
};

}  // namespace ccmesh::broker
