#include "ccmesh/worker/turn_queue.hpp"

#include <algorithm>

namespace ccmesh::worker {

std::optional<PendingQuery> TurnQueue::pop() {
  if (waiting_.empty()) return std::nullopt;
  PendingQuery query = std::move(waiting_.front());
  waiting_.pop_front();
  return query;
}

std::optional<PendingQuery> TurnQueue::remove(uint64_t id) {
  auto it = std::find_if(waiting_.begin(), waiting_.end(),
                         [id](const PendingQuery& query) { return query.id == id; });
  if (it == waiting_.end()) return std::nullopt;
  PendingQuery query = std::move(*it);
  waiting_.erase(it);
  return query;
}

std::vector<PendingQuery> TurnQueue::takeExpired(TimePoint now) {
  std::vector<PendingQuery> expired;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->deadline <= now) {
      expired.push_back(std::move(*it));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  return expired;
}

std::vector<PendingQuery> TurnQueue::takeAll() {
  std::vector<PendingQuery> all(std::make_move_iterator(waiting_.begin()),
                                std::make_move_iterator(waiting_.end()));
  waiting_.clear();
  return all;
}

std::optional<TimePoint> TurnQueue::earliestDeadline() const {
  std::optional<TimePoint> earliest;
  for (const auto& query : waiting_) {
    if (!earliest || query.deadline < *earliest) earliest = query.deadline;
  }
  return earliest;
}

}  // namespace ccmesh::worker
