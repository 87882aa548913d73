#include "transport/outbox.hpp"

#include <algorithm>

namespace ccmesh::broker {

Outbox::Outbox(zmq::socket_t& frontend, zmq::socket_t& backend, std::size_t client_backlog_limit)
    : frontend_(frontend), backend_(backend), client_backlog_limit_(client_backlog_limit) {}

void Outbox::toClient(const std::string& client, MessageType type, msgpack::sbuffer body) {
  if (held_.count(client) != 0) {
    backlog_[client].push_back(Queued{type, std::move(body)});
    return;
  }
  const bool is_event = type == MessageType::kEvent;
  auto queued = backlog_.find(client);
  if (queued == backlog_.end()) {
    switch (sendMessage(frontend_, client, type, body)) {
      case SendStatus::kSent:
        return;
      case SendStatus::kUnreachable:
        lose(client);
        return;
      case SendStatus::kWouldBlock:
        break;
    }
    if (is_event) {
      ++dropped_events_;
      return;
    }
    queued = backlog_.try_emplace(client).first;
  } else if (is_event) {
    ++dropped_events_;
    return;
  }
  if (queued->second.size() >= client_backlog_limit_) {
    ++dropped_replies_;
    return;
  }
  queued->second.push_back(Queued{type, std::move(body)});
}

void Outbox::eventToClient(const std::string& client, const msgpack::sbuffer& body) {
  // As toClient: an event never waits behind others, and one the socket cannot take is
  // dropped.
  if (!offerToClient(client, MessageType::kEvent, body)) ++dropped_events_;
}

bool Outbox::offerToClient(const std::string& client, MessageType type,
                           const msgpack::sbuffer& body) {
  if (held_.count(client) != 0) {
    msgpack::sbuffer copy(body.size());
    copy.write(body.data(), body.size());
    backlog_[client].push_back(Queued{type, std::move(copy)});
    return true;
  }
  if (backlog_.count(client) != 0) return false;
  switch (sendMessage(frontend_, client, type, body)) {
    case SendStatus::kSent:
      return true;
    case SendStatus::kUnreachable:
      lose(client);  // its requests and watches end with it
      return true;
    case SendStatus::kWouldBlock:
      break;
  }
  return false;
}

SendStatus Outbox::toWorker(const std::string& routing_id, MessageType type,
                            const msgpack::sbuffer& body) {
  return sendMessage(backend_, routing_id, type, body);
}

bool Outbox::flush() {
  std::vector<std::string> lost;
  for (auto it = backlog_.begin(); it != backlog_.end();) {
    if (held_.count(it->first) != 0) {
      ++it;
      continue;
    }
    auto& queue = it->second;
    bool unreachable = false;
    while (!queue.empty()) {
      auto status = sendMessage(frontend_, it->first, queue.front().type, queue.front().body);
      if (status == SendStatus::kWouldBlock) break;
      if (status == SendStatus::kUnreachable) {
        unreachable = true;
        break;
      }
      queue.pop_front();
    }
    if (unreachable) lost.push_back(it->first);
    it = queue.empty() || unreachable ? backlog_.erase(it) : std::next(it);
  }
  for (const auto& client : lost) lose(client);
  return !backlog_.empty();
}

std::vector<std::string> Outbox::takeLostClients() {
  std::vector<std::string> lost;
  lost.swap(lost_clients_);
  return lost;
}

void Outbox::lose(const std::string& client) {
  backlog_.erase(client);
  held_.erase(client);
  if (std::find(lost_clients_.begin(), lost_clients_.end(), client) == lost_clients_.end()) {
    lost_clients_.push_back(client);
  }
}

}  // namespace ccmesh::broker
