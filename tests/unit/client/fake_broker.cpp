#include "fake_broker.hpp"

#include <gtest/gtest.h>

#include <future>

#include "ccmesh/common/socket_io.hpp"

namespace ccmesh::client::fakes {

void FakeBroker::Replier::sendFrames(const std::vector<std::string>& frames) {
  socket_.send(zmq::buffer(routing_id_), zmq::send_flags::sndmore);
  for (size_t i = 0; i < frames.size(); ++i) {
    socket_.send(zmq::buffer(frames[i]),
                 i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

FakeBroker::FakeBroker(Script script) : script_(std::move(script)) {
  std::promise<std::string> bound;
  auto endpoint = bound.get_future();
  thread_ = std::thread([this, bound = std::move(bound)]() mutable {
    zmq::socket_t socket(context_, zmq::socket_type::router);
    socket.set(zmq::sockopt::linger, 0);
    socket.bind("tcp://127.0.0.1:*");
    bound.set_value(socket.get(zmq::sockopt::last_endpoint));
    serve(socket);
  });
  endpoint_ = endpoint.get();
}

FakeBroker::~FakeBroker() {
  stop_ = true;
  thread_.join();
}

void FakeBroker::serve(zmq::socket_t& socket) {
  while (!stop_) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    // A short poll only so that the destructor is noticed; messages wake it at once.
    zmq::poll(&item, 1, Millis{20});
    std::vector<zmq::message_t> frames;
    bool oversized = false;
    while (receiveMessage(socket, frames, oversized)) {
      if (frames.size() < 2) continue;
      std::string routing_id = frames[0].to_string();
      auto envelope = decodeFrames(std::span<const zmq::message_t>(frames).subspan(1));
      if (!envelope.ok()) {
        ADD_FAILURE() << "the client sent a malformed message: " << envelope.error().error.message;
        continue;
      }
      Request request{envelope.value().type, envelope.value().id, frames.back().to_string()};
      {
        std::lock_guard lock(mutex_);
        received_.push_back(request);
      }
      changed_.notify_all();
      Replier replier(socket, routing_id);
      if (script_) script_(request, replier);
    }
  }
}

std::vector<FakeBroker::Request> FakeBroker::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::vector<FakeBroker::Request> FakeBroker::waitFor(MessageType type, size_t count,
                                                     Millis timeout) const {
  auto matching = [&] {
    std::vector<Request> found;
    for (const auto& request : received_) {
      if (request.type == type) found.push_back(request);
    }
    return found;
  };
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return matching().size() >= count; });
  auto found = matching();
  if (found.size() < count) {
    ADD_FAILURE() << "waited " << timeout.count() << " ms for " << count << " '"
                  << messageTypeName(type) << "' messages, got " << found.size();
  }
  return found;
}

}  // namespace ccmesh::client::fakes
