#include "ccmesh/common/monitor_event.hpp"

#include <cstring>

namespace ccmesh {

std::optional<MonitorEvent> receiveMonitorEvent(zmq::socket_t& monitor) {
  while (true) {
    zmq::message_t header;
    zmq::recv_result_t got;
    try {
      got = monitor.recv(header, zmq::recv_flags::dontwait);
    } catch (const zmq::error_t&) {
      return std::nullopt;
    }
    if (!got) return std::nullopt;
    // Event frames: [uint16 event, uint32 value] then [endpoint].
    MonitorEvent event;
    if (header.more()) {
      zmq::message_t endpoint;
      if (monitor.recv(endpoint, zmq::recv_flags::dontwait)) event.endpoint = endpoint.to_string();
    }
    if (header.size() < 6) continue;
    std::memcpy(&event.event, header.data(), sizeof event.event);
    std::memcpy(&event.value, static_cast<const char*>(header.data()) + 2, sizeof event.value);
    return event;
  }
}

}  // namespace ccmesh
