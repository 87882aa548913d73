#include "ccmesh/broker/request_table.hpp"

#include <algorithm>

namespace ccmesh::broker {

BrokerRequest* RequestTable::add(const std::string& client, uint64_t client_id, RequestKind kind,
                                 const std::string& session, TimePoint now, TimePoint deadline) {
  auto key = std::make_pair(client, client_id);
  if (by_client_.count(key)) return nullptr;
  const uint64_t id = next_id_++;
  auto& request = requests_[id];
  request.id = id;
  request.client = client;
  request.client_id = client_id;
  request.kind = kind;
  request.session = session;
  request.accepted_at = now;
  request.deadline = deadline;
  by_client_.emplace(std::move(key), id);
  by_deadline_.emplace(deadline, id);
  if (kind == RequestKind::kQuery) ++queries_per_session_[session];
  ++per_client_[client];
  return &request;
}

BrokerRequest* RequestTable::find(uint64_t id) {
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : &it->second;
}

BrokerRequest* RequestTable::findByClient(const std::string& client, uint64_t client_id) {
  auto it = by_client_.find(std::make_pair(client, client_id));
  return it == by_client_.end() ? nullptr : find(it->second);
}

const BrokerRequest* RequestTable::findByClient(const std::string& client,
                                                uint64_t client_id) const {
  auto it = by_client_.find(std::make_pair(client, client_id));
  if (it == by_client_.end()) return nullptr;
  auto request = requests_.find(it->second);
  return request == requests_.end() ? nullptr : &request->second;
}

void RequestTable::setDeadline(uint64_t id, TimePoint deadline) {
  auto* request = find(id);
  if (!request) return;
  by_deadline_.erase({request->deadline, id});
  request->deadline = deadline;
  by_deadline_.emplace(deadline, id);
}

std::optional<BrokerRequest> RequestTable::take(uint64_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return std::nullopt;
  BrokerRequest request = std::move(it->second);
  requests_.erase(it);
  by_client_.erase({request.client, request.client_id});
  by_deadline_.erase({request.deadline, id});
  if (auto mine = per_client_.find(request.client);
      mine != per_client_.end() && --mine->second == 0) {
    per_client_.erase(mine);
  }
  if (request.kind == RequestKind::kQuery) {
    auto count = queries_per_session_.find(request.session);
    if (count != queries_per_session_.end() && --count->second == 0) {
      queries_per_session_.erase(count);
    }
    unqueue(request);
  }
  return request;
}

void RequestTable::wait(BrokerRequest& request) {
  request.worker.clear();
  request.delivered = false;
  waiting_[request.session].insert(request.id);
}

void RequestTable::forward(BrokerRequest& request, const std::string& worker, uint64_t generation) {
  unqueue(request);
  request.worker = worker;
  request.generation = generation;
  request.delivered = false;
}

const std::set<uint64_t>& RequestTable::waitingFor(const std::string& session) const {
  static const std::set<uint64_t> kNone;
  auto it = waiting_.find(session);
  return it == waiting_.end() ? kNone : it->second;
}

void RequestTable::unqueue(const BrokerRequest& request) {
  auto queue = waiting_.find(request.session);
  if (queue == waiting_.end()) return;
  queue->second.erase(request.id);
  if (queue->second.empty()) waiting_.erase(queue);
}

void RequestTable::appendPartial(BrokerRequest& request, std::string_view text) {
  const auto room = kMaxPartialBytes - std::min(kMaxPartialBytes, request.partial.size());
  request.partial.append(text.substr(0, room));
}

std::vector<uint64_t> RequestTable::expired(TimePoint now) const {
  std::vector<uint64_t> ids;
  for (const auto& [deadline, id] : by_deadline_) {
    if (deadline > now) break;
    ids.push_back(id);
  }
  return ids;
}

std::optional<TimePoint> RequestTable::nextDeadline() const {
  if (by_deadline_.empty()) return std::nullopt;
  return by_deadline_.begin()->first;
}

std::vector<uint64_t> RequestTable::forwardedTo(const std::string& worker) const {
  std::vector<uint64_t> ids;
  if (worker.empty()) return ids;
  for (const auto& [id, request] : requests_) {
    if (request.worker == worker || request.confirming.count(worker) > 0) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());  // broker ids grow with arrival
  return ids;
}

std::vector<uint64_t> RequestTable::ofClient(const std::string& client) const {
  std::vector<uint64_t> ids;
  for (auto it = by_client_.lower_bound({client, 0});
       it != by_client_.end() && it->first.first == client; ++it) {
    ids.push_back(it->second);
  }
  return ids;
}

uint32_t RequestTable::queriesOf(const std::string& session) const {
  auto it = queries_per_session_.find(session);
  return it == queries_per_session_.end() ? 0 : it->second;
}

std::size_t RequestTable::countOfClient(const std::string& client) const {
  auto it = per_client_.find(client);
  return it == per_client_.end() ? 0 : it->second;
}

std::vector<uint64_t> RequestTable::ids() const {
  std::vector<uint64_t> ids;
  ids.reserve(requests_.size());
  for (const auto& [id, request] : requests_) ids.push_back(id);
  return ids;
}

}  // namespace ccmesh::broker
