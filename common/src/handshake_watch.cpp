#include "ccmesh/common/handshake_watch.hpp"

#include <atomic>
#include <cstdint>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/monitor_event.hpp"

namespace ccmesh {
namespace {

constexpr int kWatchedEvents = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_CONNECT_RETRIED;

// A monitor endpoint unique in the process (one context may hold several watched sockets).
std::string nextEndpoint() {
  static std::atomic<uint64_t> counter{0};
  return "inproc://ccmesh-handshake-watch-" + std::to_string(counter.fetch_add(1));
}

// The socket speaks CURVE (its mechanism is set before it connects).
bool usesCurve(zmq::socket_t& socket) {
  int mechanism = ZMQ_NULL;
  size_t size = sizeof mechanism;
  return zmq_getsockopt(socket.handle(), ZMQ_MECHANISM, &mechanism, &size) == 0 &&
         mechanism == ZMQ_CURVE;
}

// Words for a failed handshake event.
std::string describe(uint16_t event, uint32_t value) {
  switch (event) {
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      return "the broker refused this key (ZAP status " + std::to_string(value) +
             "): it is not in the broker's allow-list for this port";
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
        return "security mismatch: one side uses CURVE keys and the other does not (give "
               "--curve-server-key and --curve-secret, or none)";
      }
      return "the security handshake failed (protocol error " + std::to_string(value) +
             "); check the CURVE keys on both sides";
    default:
      return "the broker closed the connection during the security handshake (wrong "
             "--curve-server-key?)";
  }
}

}  // namespace

HandshakeWatch::Reach HandshakeWatch::reachOf(const std::string& endpoint) const {
  auto it = reach_.find(endpoint);
  return it == reach_.end() ? Reach{} : it->second;
}

HandshakeWatch::HandshakeWatch(zmq::context_t& context, zmq::socket_t& socket)
    : watched_(socket), monitor_(context, zmq::socket_type::pair) {
  const std::string endpoint = nextEndpoint();
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), kWatchedEvents) != 0) {
    throw ConfigError(std::string("cannot monitor a socket: ") + zmq_strerror(zmq_errno()));
  }
  monitor_.set(zmq::sockopt::linger, 0);
  monitor_.connect(endpoint);
}

bool HandshakeWatch::drain() {
  bool changed = false;
  while (const auto next = receiveMonitorEvent(monitor_)) {
    const uint16_t event = next->event;
    const uint32_t value = next->value;
    if (event == ZMQ_EVENT_DISCONNECTED || event == ZMQ_EVENT_CONNECT_RETRIED) {
      reach_[next->endpoint].lost = true;
      continue;
    }
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) reach_[next->endpoint].reached = true;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && !usesCurve(watched_)) {
      continue;  // the peer went away mid-handshake: nothing about keys
    }
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      changed = changed || failure_.has_value();
      failure_.reset();
      succeeded_ = true;
      refused_ = false;
      failures_in_a_row_ = 0;
    } else {
      succeeded_ = false;
      refused_ = event != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
      ++failures_in_a_row_;
      auto text = describe(event, value);
      changed = changed || failure_ != text;
      failure_ = std::move(text);
    }
  }
  return changed;
}

}  // namespace ccmesh
