#include "ccmesh/common/socket_io.hpp"

#include <array>

#include "ccmesh/common/limits.hpp"

namespace ccmesh {

SendStatus sendMessage(zmq::socket_t& socket, std::string_view routing_id, MessageType type,
                       const msgpack::sbuffer& body) {
  auto flags = zmq::send_flags::dontwait | zmq::send_flags::sndmore;
  auto type_name = messageTypeName(type);
  try {
    if (!routing_id.empty()) {
      // Only the first frame can hit EAGAIN or EHOSTUNREACH; the rest then always go out.
      if (!socket.send(zmq::const_buffer(routing_id.data(), routing_id.size()), flags)) {
        return SendStatus::kWouldBlock;
      }
      socket.send(zmq::const_buffer(kProtocolTag.data(), kProtocolTag.size()), flags);
    } else if (!socket.send(zmq::const_buffer(kProtocolTag.data(), kProtocolTag.size()), flags)) {
      return SendStatus::kWouldBlock;
    }
    socket.send(zmq::const_buffer(type_name.data(), type_name.size()), flags);
    socket.send(zmq::const_buffer(body.data(), body.size()), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return SendStatus::kUnreachable;
    if (e.num() == EAGAIN) return SendStatus::kWouldBlock;
    throw;
  }
  return SendStatus::kSent;
}

bool receiveMessage(zmq::socket_t& socket, std::vector<zmq::message_t>& frames, bool& oversized) {
  frames.clear();
  oversized = false;
  zmq::message_t part;
  if (!socket.recv(part, zmq::recv_flags::dontwait)) return false;
  bool more = part.more();
  frames.push_back(std::move(part));
  while (more) {
    zmq::message_t next;
    // The rest of a multipart message is already here: ZeroMQ delivers it atomically.
    (void)socket.recv(next, zmq::recv_flags::none);
    more = next.more();
    if (frames.size() <= limits::kMaxFrames) {
      frames.push_back(std::move(next));
    } else {
      oversized = true;
    }
  }
  return true;
}

void applyCommonOptions(zmq::socket_t& socket) {
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits::kMaxBodyBytes + 4096));
}

}  // namespace ccmesh
