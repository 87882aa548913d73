#pragma once

#include <msgpack.hpp>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/message_type.hpp"

namespace ccmesh {

// What happened to a send: sends never block, so a full or vanished peer is a value.
enum class SendStatus {
  kSent,
  kWouldBlock,   // the peer is at its high-water mark
  kUnreachable,  // ROUTER_MANDATORY: no such peer (it disconnected)
};

// Sends [routing_id]["CCM1"][type][body] without blocking. An empty routing_id sends no
// routing frame (DEALER side).
SendStatus sendMessage(zmq::socket_t& socket, std::string_view routing_id, MessageType type,
                       const msgpack::sbuffer& body);

template <class T>
SendStatus sendBody(zmq::socket_t& socket, std::string_view routing_id, MessageType type,
                    const T& body) {
  return sendMessage(socket, routing_id, type, encodeBody(body));
}

// Reads one whole multipart message without blocking. Returns false when none is waiting.
// Frames beyond limits::kMaxFrames (+1 for a routing id) are read and dropped, and
// `oversized` is set, so a hostile peer cannot make the reader allocate without bound.
bool receiveMessage(zmq::socket_t& socket, std::vector<zmq::message_t>& frames, bool& oversized);

// Socket options every ccmesh socket gets: linger 0 and a maximum message size.
void applyCommonOptions(zmq::socket_t& socket);

}  // namespace ccmesh
