#pragma once

#include <msgpack.hpp>
#include <string>
#include <utility>

#include "ccmesh/common/message_type.hpp"
#include "ccmesh/common/socket_io.hpp"

namespace ccmesh::broker {

// Where the broker core's messages go: the broker's sockets (Outbox) in the broker, a
// recorder in tests of the core. Never blocks.
class PeerSender {
 public:
  virtual ~PeerSender() = default;

  // To a client by routing id: events may be dropped when it is not reading, final replies
  // are never dropped silently.
  virtual void toClient(const std::string& client, MessageType type, msgpack::sbuffer body) = 0;

  // An `event` to a client from a buffer the caller reuses: as toClient.
  virtual void eventToClient(const std::string& client, const msgpack::sbuffer& body) {
    msgpack::sbuffer copy(body.size());
    copy.write(body.data(), body.size());
    toClient(client, MessageType::kEvent, std::move(copy));
  }

  // Offers a client an event only if its socket takes it now (nothing queued for it ahead):
  // false, and nothing sent, when it would have to wait or be dropped.
  virtual bool offerToClient(const std::string& client, MessageType type,
                             const msgpack::sbuffer& body) = 0;

  // To a worker by routing id; the status says whether it could be reached.
  virtual SendStatus toWorker(const std::string& routing_id, MessageType type,
                              const msgpack::sbuffer& body) = 0;
};

}  // namespace ccmesh::broker
