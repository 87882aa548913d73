#pragma once

#include <chrono>

namespace ccmesh::worker {

// What a worker counts as it happens, for its metrics (docs/OPERATIONS.md "Monitoring"):
// the sessions and the broker link call it on the worker's loop. The default counts
// nothing, so a worker without an HTTP endpoint pays nothing.
class WorkerMeter {
 public:
  using Seconds = std::chrono::duration<double>;

  virtual ~WorkerMeter() = default;

  // A CLI process was started.
  virtual void onCliSpawned() {}
  // A CLI answered `initialize`, `took` after it was started.
  virtual void onCliReady(Seconds took) { (void)took; }
  // A CLI exited unasked.
  virtual void onCliCrashed() {}
  // A CLI was restarted with its history for holding too much memory (max_rss_mb).
  virtual void onCliRecycled() {}
  // The broker acknowledged a heartbeat (or `ready`) sent `round_trip` ago: the lease runs on.
  virtual void onLeaseRenewed(Seconds round_trip) { (void)round_trip; }
  // The lease lapsed with sessions held: the worker stopped them (self-fencing).
  virtual void onLeaseLapsed() {}

  // The meter that counts nothing.
  static WorkerMeter& none() {
    static WorkerMeter meter;
    return meter;
  }
};

}  // namespace ccmesh::worker
