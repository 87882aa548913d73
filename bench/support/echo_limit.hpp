#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "latency_samples.hpp"

namespace ccmesh::bench {

// The limit ccmesh is measured against: plain ZeroMQ doing the same hops with nothing
// decoded. A client DEALER talks over loopback TCP to a one-thread ROUTER loop (the
// "broker": a frontend and a backend ROUTER in one zmq_poll loop) that hands each message,
// prefixed by the client's routing id, to a DEALER "worker", and the worker's answers back.
// The worker echoes a `query` as a `result`, and answers a `stream` with COUNT `event`
// frames and then a `result`. Broker and worker run on threads of their own, each with its
// own ZeroMQ context, like separate processes; the calling thread is the client.
class EchoLimit {
 public:
  // Starts the broker and the worker and waits for a first round trip.
  EchoLimit();
  // Stops both threads (each notices within one poll interval).
  ~EchoLimit();
  EchoLimit(const EchoLimit&) = delete;
  EchoLimit& operator=(const EchoLimit&) = delete;

  // `count` round trips of `payload`, one at a time.
  LatencySamples roundTrips(std::size_t count, const std::string& payload);
  // Answers per second with `in_flight` requests outstanding until `count` came back.
  double throughput(std::size_t in_flight, std::size_t count, const std::string& payload);
  // Frames per second when the worker streams `count` copies of `frame` to the client.
  double stream(std::size_t count, const std::string& frame);

 private:
  // Sends [CCM1][type][body] on the client socket.
  void sendRequest(const std::string& type, const std::string& body);
  // Receives one whole message on the client socket; returns its type frame. Throws when
  // nothing comes within the deadline.
  std::string receiveReply();
  void runBroker();
  void runWorker();

  std::atomic<bool> stop_{false};     // tells both threads to leave
  std::string frontend_;              // the broker loop's client endpoint
  std::string backend_;               // the broker loop's worker endpoint
  zmq::context_t broker_context_{1};  // the broker thread's I/O
  zmq::socket_t frontend_socket_;     // ROUTER for the client (used by the broker thread)
  zmq::socket_t backend_socket_;      // ROUTER for the worker (used by the broker thread)
  zmq::context_t client_context_{1};  // the client's I/O
  zmq::socket_t client_;              // the client DEALER (used by the calling thread)
  std::thread broker_;                // the ROUTER loop
  std::thread worker_;                // the echoing DEALER
};

}  // namespace ccmesh::bench
