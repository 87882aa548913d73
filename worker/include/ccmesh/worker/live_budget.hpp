#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <unordered_set>
#include <vector>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::worker {

// A live session that may be hibernated to make room, and when it was last used.
struct IdleHolder {
  uint64_t holder = 0;    // the session's number
  TimePoint last_used{};  // when its last turn ended (or it was placed)
};

// The worker's budget of live CLI processes (--max-live; 0: no limit), kept apart from the
// number of names it hosts (--capacity). A session takes a slot before it spawns a CLI and
// gives it back once that CLI has exited, so live processes never exceed the budget, even
// while one is being stopped to make room for another. Sessions that find the budget spent
// wait in arrival order; the owner makes room by hibernating the least recently used idle
// session (leastRecentlyUsed) and hands out the slots that free up (admit). Bookkeeping
// only: it knows sessions by number and never acts on one.
class LiveBudget {
 public:
  explicit LiveBudget(uint32_t max_live) : max_live_(max_live) {}

  uint32_t maxLive() const { return max_live_; }
  // Holders of a slot now.
  std::size_t live() const { return live_.size(); }
  // Holders waiting for one.
  std::size_t waiting() const { return waiting_.size(); }
  const std::unordered_set<uint64_t>& liveHolders() const { return live_; }
  bool holds(uint64_t holder) const { return live_.count(holder) != 0; }
  // True while `holder` waits for a slot.
  bool waits(uint64_t holder) const;

  // Takes a slot for `holder` when one is free and nobody waits before it (true: it may
  // spawn now); otherwise it waits, once, behind the others. A holder already live gets
  // true.
  bool acquire(uint64_t holder);
  // Gives back the holder's slot, or takes it out of the waiting line. Unknown: no-op.
  void release(uint64_t holder);
  // Moves waiters into free slots, oldest first, and returns them (now counted live).
  std::vector<uint64_t> admit();

  // The least recently used of `idle` (ties: the lowest number), or nullopt if empty. Pure.
  static std::optional<std::size_t> leastRecentlyUsed(std::span<const IdleHolder> idle);

 private:
  bool hasRoom() const { return max_live_ == 0 || live_.size() < max_live_; }

  uint32_t max_live_;                  // most holders at once; 0: no limit
  std::unordered_set<uint64_t> live_;  // holders of a slot
  std::deque<uint64_t> waiting_;       // holders waiting for one, oldest first
};

}  // namespace ccmesh::worker
