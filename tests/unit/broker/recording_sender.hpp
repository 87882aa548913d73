#pragma once

#include <msgpack.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "ccmesh/common/message_type.hpp"
#include "core/peer_sender.hpp"

namespace ccmesh::broker::testing {

// One message the core sent.
struct Sent {
  std::string peer;  // client or worker routing id
  MessageType type;
  msgpack::object_handle body;

  template <class T>
  T as() const {
    T value;
    body.get().convert(value);
    return value;
  }
};

// Records every send; workers in `unreachable` cannot be reached.
class RecordingSender final : public PeerSender {
 public:
  void toClient(const std::string& client, MessageType type, msgpack::sbuffer body) override {
    to_clients.push_back({client, type, msgpack::unpack(body.data(), body.size())});
  }
  bool offerToClient(const std::string& client, MessageType type,
                     const msgpack::sbuffer& body) override {
    if (slow_clients.count(client) > 0) return false;
    to_clients.push_back({client, type, msgpack::unpack(body.data(), body.size())});
    return true;
  }
  SendStatus toWorker(const std::string& routing_id, MessageType type,
                      const msgpack::sbuffer& body) override {
    if (unreachable.count(routing_id) > 0) return SendStatus::kUnreachable;
    to_workers.push_back({routing_id, type, msgpack::unpack(body.data(), body.size())});
    return SendStatus::kSent;
  }

  // The last message of `type` sent to `peer` (a worker, or a client with `clients`).
  const Sent& last(const std::string& peer, MessageType type, bool clients = false) const {
    const auto& list = clients ? to_clients : to_workers;
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
      if (it->peer == peer && it->type == type) return *it;
    }
    throw std::runtime_error("nothing of type " + std::string(messageTypeName(type)) + " sent to " +
                             peer);
  }

  std::vector<Sent> to_clients;
  std::vector<Sent> to_workers;
  std::set<std::string> unreachable;
  std::set<std::string> slow_clients;  // offers to these fail: their sockets are full
};

}  // namespace ccmesh::broker::testing
