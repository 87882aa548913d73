#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::worker {

// The worker's right to run the sessions the broker placed on it.
//
// Only the broker renews it, by acknowledging a message of the worker's own: `welcome`
// acknowledges `ready`, and each broker heartbeat acknowledges the last worker heartbeat
// the broker received. An acknowledgment extends the lease to `duration` after the worker
// SENT the acknowledged message, not after the acknowledgment arrived. The broker counts a
// worker's silence from the last message it received, which left the worker no earlier, so
// the lease always runs out before the broker gives up on the worker, even when only the
// worker's messages are lost (a one-way partition). When it runs out the worker stops its
// sessions itself (self-fencing), so two live copies of a name never exist.
class Lease {
 public:
  // Sends remembered at most; older ones can no longer be acknowledged usefully.
  static constexpr std::size_t kMaxRemembered = 4096;

  explicit Lease(Millis duration) : duration_(duration) {}

  // liveness x heartbeat, as the broker's `welcome` sets them.
  void setDuration(Millis duration) { duration_ = duration; }
  Millis duration() const { return duration_; }

  // A message numbered `seq` (a heartbeat, or `ready`) was handed to the socket at `at`.
  void noteSent(uint64_t seq, TimePoint at);

  // The broker acknowledged `seq`: the lease runs to when it was sent + duration (if that is
  // later than now's expiry). Returns when `seq` was sent; numbers this lease never sent (or
  // no longer remembers) are ignored and return nothing.
  std::optional<TimePoint> acknowledge(uint64_t seq);

  // The lease is in force at `now`.
  bool held(TimePoint now) const { return expiry_ && now < *expiry_; }

  // When it runs out; nullopt while none has been granted (or after revoke()).
  std::optional<TimePoint> expiry() const { return expiry_; }

  // Forgets the grant (after self-fencing): held() is false until the next acknowledgment.
  void revoke() { expiry_.reset(); }

 private:
  Millis duration_;                                  // liveness x heartbeat
  std::deque<std::pair<uint64_t, TimePoint>> sent_;  // (seq, when sent), oldest first
  std::optional<TimePoint> expiry_;                  // see expiry()
};

}  // namespace ccmesh::worker
