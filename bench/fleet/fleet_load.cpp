#include "fleet_load.hpp"

#include <span>
#include <stdexcept>
#include <thread>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/socket_io.hpp"

namespace ccmesh::bench {
namespace {

// Shares of the queries: hot names, names used before, names used for the first time.
constexpr unsigned kHotPercent = 70;
constexpr unsigned kReturningPercent = 20;
constexpr std::size_t kHotNames = 1000;
constexpr uint64_t kQueryTimeoutMs = 30000;

}  // namespace

NameMix::NameMix(std::string prefix, std::size_t names)
    : prefix_(std::move(prefix)),
      names_(names),
      hot_(std::min(kHotNames, std::max<std::size_t>(names / 10, 1))),
      used_(hot_) {}

std::string NameMix::next() {
  const unsigned roll = static_cast<unsigned>(random_() % 100);
  if (roll < kHotPercent) return name(prefix_, random_() % hot_);
  if (roll < kHotPercent + kReturningPercent || used_ >= names_) {
    return name(prefix_, random_() % used_);
  }
  return name(prefix_, used_++);
}

FleetLoad::FleetLoad(const std::string& frontend, std::size_t sockets) {
  context_.set(zmq::ctxopt::max_sockets, static_cast<int>(sockets + 16));
  for (std::size_t i = 0; i < sockets; ++i) {
    auto socket = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    applyCommonOptions(*socket);
    socket->set(zmq::sockopt::sndhwm, 0);
    socket->set(zmq::sockopt::rcvhwm, 0);
    socket->connect(frontend);
    items_.push_back({socket->handle(), 0, ZMQ_POLLIN, 0});
    sockets_.push_back(std::move(socket));
  }
}

FleetLoad::~FleetLoad() = default;

void FleetLoad::send(std::string_view type, uint64_t id, const std::string& body_bytes,
                     std::optional<std::size_t> socket_index) {
  auto& socket = *sockets_[socket_index.value_or(next_socket_++) % sockets_.size()];
  socket.send(zmq::const_buffer(kProtocolTag.data(), kProtocolTag.size()),
              zmq::send_flags::sndmore);
  socket.send(zmq::const_buffer(type.data(), type.size()), zmq::send_flags::sndmore);
  socket.send(zmq::const_buffer(body_bytes.data(), body_bytes.size()), zmq::send_flags::none);
  open_[id] = Open{Clock::now()};
}

uint64_t FleetLoad::sendQuery(const std::string& session, std::optional<std::size_t> socket) {
  msg::Query query;
  query.id = next_id_++;
  query.session = session;
  query.prompt = prompt_;
  query.stream = true;
  query.timeout_ms = kQueryTimeoutMs;
  const auto body = encodeBody(query);
  send(messageTypeName(MessageType::kQuery), query.id, std::string(body.data(), body.size()),
       socket);
  return query.id;
}

uint64_t FleetLoad::sendStart(const std::string& session) {
  msg::Start start;
  start.id = next_id_++;
  start.session = session;
  start.options.start = std::string(SessionOptions::kStartOnDemand);
  const auto body = encodeBody(start);
  send(messageTypeName(MessageType::kStart), start.id, std::string(body.data(), body.size()));
  return start.id;
}

void FleetLoad::receive(Millis wait, LoadFigures& figures) {
  zmq::poll(items_.data(), items_.size(), wait);
  for (std::size_t i = 0; i < sockets_.size(); ++i) {
    if (!(items_[i].revents & ZMQ_POLLIN)) continue;
    bool oversized = false;
    while (receiveMessage(*sockets_[i], frames_, oversized)) {
      auto envelope = decodeFrames(std::span<const zmq::message_t>(frames_));
      if (!envelope) continue;
      if (envelope->type == MessageType::kEvent) {
        auto event = decodeBody<msg::Event>(*envelope);
        if (event && event->kind == "delta") {
          figures.text_bytes += event->text.size();
          ++figures.events;
        }
        continue;
      }
      // The relay passes the worker's `delivered` on; the broker keeps it.
      if (envelope->type == MessageType::kDelivered) continue;
      auto it = open_.find(envelope->id);
      if (it == open_.end()) continue;
      if (envelope->type == MessageType::kResult) {
        figures.latency.add(Clock::now() - it->second.sent);
        ++figures.answered;
        if (it->second.name < answered_of_name_.size()) {
          auto& answered = answered_of_name_[it->second.name];
          if (it->second.order != answered) ++figures.out_of_order;
          ++answered;
        }
      } else {
        ++figures.failed;
        if (figures.first_error.empty()) {
          auto error = decodeBody<msg::ErrorReply>(*envelope);
          figures.first_error = error ? error->code + ": " + error->message : "error";
        }
      }
      open_.erase(it);
    }
  }
}

LoadFigures FleetLoad::keepInFlight(std::size_t in_flight, Clock::time_point give_up,
                                    const std::function<bool()>& send) {
  LoadFigures figures;
  const auto start = Clock::now();
  bool more = true;
  while ((more || !open_.empty()) && Clock::now() < give_up) {
    while (more && open_.size() < in_flight) {
      more = send();
      if (more) ++figures.sent;
    }
    receive(Millis(10), figures);
  }
  figures.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  figures.unanswered = open_.size();
  open_.clear();
  return figures;
}

LoadFigures FleetLoad::registerNames(const std::string& prefix, std::size_t first,
                                     std::size_t count, std::size_t in_flight, Millis deadline) {
  std::size_t next = first;
  return keepInFlight(in_flight, Clock::now() + deadline, [&] {
    if (next >= first + count) return false;
    sendStart(NameMix::name(prefix, next++));
    return true;
  });
}

LoadFigures FleetLoad::closedLoop(NameMix& names, std::size_t in_flight, Millis duration) {
  const auto end = Clock::now() + duration;
  return keepInFlight(in_flight, end + Millis(kQueryTimeoutMs), [&] {
    if (Clock::now() >= end) return false;
    sendQuery(names.next());
    return true;
  });
}

LoadFigures FleetLoad::openLoop(NameMix& names, double rate, Millis duration, Millis drain) {
  LoadFigures figures;
  const auto start = Clock::now();
  const auto end = start + duration;
  const auto spacing =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  auto next_send = start;
  while (Clock::now() < end) {
    // Every query whose time has come goes out, even when the loop fell behind.
    while (next_send <= Clock::now() && next_send < end) {
      sendQuery(names.next());
      ++figures.sent;
      next_send += spacing;
    }
    const auto wait = std::chrono::duration_cast<Millis>(next_send - Clock::now());
    receive(std::clamp(wait, Millis(0), Millis(10)), figures);
  }
  const auto drain_end = Clock::now() + drain;
  while (!open_.empty() && Clock::now() < drain_end) receive(Millis(10), figures);
  figures.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  figures.unanswered = open_.size();
  open_.clear();
  return figures;
}

LoadFigures FleetLoad::askInOrder(const std::vector<std::string>& names, std::size_t per_name,
                                  Millis deadline) {
  LoadFigures figures;
  const auto start = Clock::now();
  answered_of_name_.assign(names.size(), 0);
  for (std::size_t order = 0; order < per_name; ++order) {
    for (std::size_t name = 0; name < names.size(); ++name) {
      const uint64_t id = sendQuery(names[name], name);
      open_[id].name = name;
      open_[id].order = order;
      ++figures.sent;
    }
  }
  const auto give_up = start + deadline;
  while (!open_.empty() && Clock::now() < give_up) receive(Millis(10), figures);
  figures.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  figures.unanswered = open_.size();
  open_.clear();
  answered_of_name_.clear();
  return figures;
}

}  // namespace ccmesh::bench
