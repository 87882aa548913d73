#pragma once

#include <cstddef>
#include <deque>
#include <msgpack.hpp>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/message_type.hpp"
#include "ccmesh/common/socket_io.hpp"
#include "core/peer_sender.hpp"

namespace ccmesh::broker {

// Everything the broker sends goes through here, and nothing here ever blocks.
//
// Clients: a reply that finds the client's pipe full (EAGAIN) is handled by kind. Events
// are dropped and counted (the client sees a gap in `seq`); final replies wait in a small
// per-client queue, retried on every loop iteration, in order, and later messages for that
// client queue behind them. A client that lets `client_backlog_limit` final replies pile
// up loses further ones (counted). A client found unreachable (EHOSTUNREACH) is recorded as
// lost; the broker then cancels its requests.
//
// Workers: sends return their status; the caller decides (unreachable = dead).
class Outbox final : public PeerSender {
 public:
  Outbox(zmq::socket_t& frontend, zmq::socket_t& backend, std::size_t client_backlog_limit);

  // Sends an event (dropped if the client is not reading) or a final reply (queued).
  void toClient(const std::string& client, MessageType type, msgpack::sbuffer body) override;
  // Copies `body` only when it must wait (the client is held).
  void eventToClient(const std::string& client, const msgpack::sbuffer& body) override;
  bool offerToClient(const std::string& client, MessageType type,
                     const msgpack::sbuffer& body) override;

  template <class T>
  void toClientBody(const std::string& client, MessageType type, const T& body) {
    toClient(client, type, encodeBody(body));
  }

  // Sends to a worker by routing id, never blocking.
  SendStatus toWorker(const std::string& routing_id, MessageType type,
                      const msgpack::sbuffer& body) override;

  // Holds every message to `client`, events included, in order until release(client):
  // replies that may go out only once what they announce is durable (high availability:
  // a declaration written to etcd). A held client's queue has no length limit.
  void hold(const std::string& client) { held_.insert(client); }
  void release(const std::string& client) { held_.erase(client); }

  // Retries queued client replies. True while some remain.
  bool flush();

  bool hasBacklog() const { return !backlog_.empty(); }

  // Clients found unreachable since the last call.
  std::vector<std::string> takeLostClients();

  // Events not sent because a client was not reading; final replies lost because a
  // client's backlog was full.
  uint64_t droppedEvents() const { return dropped_events_; }
  uint64_t droppedReplies() const { return dropped_replies_; }

 private:
  // A reply waiting for its client to read.
  struct Queued {
    MessageType type;       // its message type
    msgpack::sbuffer body;  // its encoded body
  };

  // Records a client as gone and drops what was queued for it.
  void lose(const std::string& client);

  zmq::socket_t& frontend_;           // clients' ROUTER
  zmq::socket_t& backend_;            // workers' ROUTER
  std::size_t client_backlog_limit_;  // most final replies queued per client
  uint64_t dropped_events_ = 0;       // see droppedEvents()
  uint64_t dropped_replies_ = 0;      // see droppedReplies()
  std::unordered_map<std::string, std::deque<Queued>> backlog_;  // client -> queued replies
  std::vector<std::string> lost_clients_;  // unreachable clients not yet taken
  std::unordered_set<std::string> held_;   // see hold()
};

}  // namespace ccmesh::broker
