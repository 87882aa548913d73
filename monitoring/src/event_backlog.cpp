#include "ccmesh/monitoring/event_backlog.hpp"

#include <algorithm>

namespace ccmesh::monitoring {

void EventBacklog::publish(Entry entry) {
  auto shared = std::make_shared<const Entry>(std::move(entry));
  {
    std::lock_guard lock(mutex_);
    last_seq_ = shared->seq;
    entries_.push_back(std::move(shared));
    while (entries_.size() > capacity_) entries_.pop_front();
  }
  changed_.notify_all();
}

void EventBacklog::skip(uint64_t seq) {
  std::lock_guard lock(mutex_);
  last_seq_ = seq;
}

EventBacklog::Batch EventBacklog::after(uint64_t seq, Millis wait) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, wait,
                    [&] { return closed_ || (!entries_.empty() && entries_.back()->seq > seq); });
  Batch batch;
  batch.closed = closed_;
  const auto first = std::upper_bound(entries_.begin(), entries_.end(), seq,
                                      [](uint64_t s, const auto& e) { return s < e->seq; });
  // Events after the reader's position that are not kept: dropped, or skipped while no
  // stream read.
  const uint64_t oldest_kept = entries_.empty() ? last_seq_ + 1 : entries_.front()->seq;
  batch.missed = seq + 1 < oldest_kept && seq < last_seq_;
  batch.entries.assign(first, entries_.end());
  return batch;
}

uint64_t EventBacklog::lastSeq() const {
  std::lock_guard lock(mutex_);
  return last_seq_;
}

void EventBacklog::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

}  // namespace ccmesh::monitoring
