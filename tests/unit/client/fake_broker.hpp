#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <msgpack.hpp>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/message_type.hpp"

namespace ccmesh::client::fakes {

// A broker frontend for client tests: a ROUTER bound to tcp://127.0.0.1:* in its own
// thread (with its own context; the socket never leaves that thread), answering every
// message through a script and recording what arrived.
class FakeBroker {
 public:
  // One message a client sent.
  struct Request {
    MessageType type = MessageType::kPing;
    uint64_t id = 0;   // the body's id
    std::string body;  // the msgpack body as sent

    // The body decoded as T.
    template <class T>
    T as() const {
      auto handle = msgpack::unpack(body.data(), body.size());
      return handle.get().as<T>();
    }
  };

  // How a script answers: sends to the client whose message is being handled. Used only in
  // the broker thread, from inside the script.
  class Replier {
   public:
    Replier(zmq::socket_t& socket, std::string routing_id)
        : socket_(socket), routing_id_(std::move(routing_id)) {}

    template <class T>
    void send(MessageType type, const T& body) {
      msgpack::sbuffer buffer;
      msgpack::pack(buffer, body);
      sendFrames({std::string(kProtocolTag), std::string(messageTypeName(type)),
                  std::string(buffer.data(), buffer.size())});
    }
    // Any frames after the routing id, to send broken messages.
    void sendFrames(const std::vector<std::string>& frames);

   private:
    zmq::socket_t& socket_;   // the broker's ROUTER
    std::string routing_id_;  // the client being answered
  };

  using Script = std::function<void(const Request&, Replier&)>;

  explicit FakeBroker(Script script);
  ~FakeBroker();
  FakeBroker(const FakeBroker&) = delete;
  FakeBroker& operator=(const FakeBroker&) = delete;

  // tcp://127.0.0.1:PORT, the port the system picked.
  const std::string& endpoint() const { return endpoint_; }

  // Every message received so far, in arrival order.
  std::vector<Request> received() const;

  // Waits until `count` messages of `type` have arrived (failing the test, and saying what
  // it waited for, if they do not within `timeout`); returns those received by then.
  std::vector<Request> waitFor(MessageType type, size_t count,
                               Millis timeout = std::chrono::seconds(10)) const;

 private:
  void serve(zmq::socket_t& socket);

  Script script_;                            // answers each message (broker thread only)
  std::string endpoint_;                     // where the ROUTER is bound
  std::atomic<bool> stop_{false};            // asks the broker thread to finish
  mutable std::mutex mutex_;                 // guards received_
  mutable std::condition_variable changed_;  // signalled on every received message
  std::vector<Request> received_;            // what arrived, in order
  zmq::context_t context_{1};                // the broker thread's context
  std::thread thread_;                       // runs serve()
};

}  // namespace ccmesh::client::fakes
