#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <zmq.hpp>

namespace ccmesh {

// One event of a ZeroMQ socket monitor (zmq_socket_monitor): what happened to the watched
// socket and the number that goes with it (a descriptor, an error or a ZAP status).
struct MonitorEvent {
  uint16_t event = 0;    // ZMQ_EVENT_*
  uint32_t value = 0;    // its value; for ZMQ_EVENT_DISCONNECTED, the connection's descriptor
  std::string endpoint;  // the endpoint it concerns, as connected or bound (tcp://...)
};

// Reads the next event from `monitor`, the PAIR connected to a socket monitor's endpoint,
// without blocking. Frames too short to be an event are read and skipped. Returns nothing
// when no event is waiting (or the monitor socket cannot be read).
std::optional<MonitorEvent> receiveMonitorEvent(zmq::socket_t& monitor);

}  // namespace ccmesh
