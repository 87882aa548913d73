#include "ccmesh/worker/lease.hpp"

#include <algorithm>

namespace ccmesh::worker {

void Lease::noteSent(uint64_t seq, TimePoint at) {
  // Numbers only grow; a smaller one means the counter restarted: start over.
  if (!sent_.empty() && seq <= sent_.back().first) sent_.clear();
  sent_.emplace_back(seq, at);
  if (sent_.size() > kMaxRemembered) sent_.pop_front();
}

std::optional<TimePoint> Lease::acknowledge(uint64_t seq) {
  auto it = std::lower_bound(sent_.begin(), sent_.end(), seq,
                             [](const auto& entry, uint64_t value) { return entry.first < value; });
  if (it == sent_.end() || it->first != seq) return std::nullopt;
  const TimePoint sent = it->second;
  const TimePoint until = sent + duration_;
  if (!expiry_ || until > *expiry_) expiry_ = until;
  // Older sends can only renew to an earlier time: forget them.
  sent_.erase(sent_.begin(), it);
  return sent;
}

}  // namespace ccmesh::worker
