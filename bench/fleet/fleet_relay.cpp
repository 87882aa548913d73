#include "fleet_relay.hpp"

#include <iostream>
#include <iterator>
#include <string>
#include <unordered_set>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "ccmesh/common/socket_io.hpp"

namespace ccmesh::bench {
namespace {

// Reads one whole multipart message; false when none is waiting.
bool receiveAll(zmq::socket_t& socket, std::vector<zmq::message_t>& frames) {
  frames.clear();
  return zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait)
      .has_value();
}

// Sends frames[from..] (and `head` first, if given), moving them out.
void sendAll(zmq::socket_t& socket, zmq::message_t* head, std::vector<zmq::message_t>& frames,
             std::size_t from) {
  if (head) socket.send(*head, zmq::send_flags::sndmore);
  for (std::size_t i = from; i < frames.size(); ++i) {
    socket.send(frames[i],
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

zmq::socket_t boundRouter(zmq::context_t& context) {
  zmq::socket_t socket(context, zmq::socket_type::router);
  applyCommonOptions(socket);
  socket.set(zmq::sockopt::sndhwm, 0);
  socket.set(zmq::sockopt::rcvhwm, 0);
  socket.bind("tcp://127.0.0.1:*");
  return socket;
}

}  // namespace

void FleetRelay::run() {
  zmq::context_t context(1);
  context.set(zmq::ctxopt::max_sockets, static_cast<int>(expected_ * 2 + 64));
  zmq::socket_t frontend = boundRouter(context);
  zmq::socket_t backend = boundRouter(context);
  std::cout << "relay " << frontend.get(zmq::sockopt::last_endpoint) << " "
            << backend.get(zmq::sockopt::last_endpoint) << std::endl;
  std::vector<std::string> workers;  // in the order they appeared
  std::unordered_set<std::string> known;
  std::size_t next = 0;
  std::vector<zmq::message_t> frames;
  zmq::pollitem_t items[] = {{frontend.handle(), 0, ZMQ_POLLIN, 0},
                             {backend.handle(), 0, ZMQ_POLLIN, 0}};
  while (true) {
    zmq::poll(items, 2, std::chrono::milliseconds(100));
    while ((items[1].revents & ZMQ_POLLIN) && receiveAll(backend, frames)) {
      std::string worker = frames[0].to_string();
      if (known.insert(worker).second) {
        workers.push_back(std::move(worker));
        if (workers.size() == expected_) std::cout << "all workers in" << std::endl;
      }
      if (frames.size() == 5) {
        sendAll(frontend, nullptr, frames, 1);  // [client][CCM1][type][body]
      } else {
        sendAll(backend, nullptr, frames, 0);  // echoed: ready, heartbeat
      }
    }
    while ((items[0].revents & ZMQ_POLLIN) && receiveAll(frontend, frames)) {
      if (workers.empty()) continue;  // nobody to ask: the client's deadline ends it
      const std::string& worker = workers[next++ % workers.size()];
      zmq::message_t head(worker.data(), worker.size());
      sendAll(backend, &head, frames, 0);
    }
  }
}

}  // namespace ccmesh::bench
