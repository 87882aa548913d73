#pragma once

#include <cstddef>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::broker {

// The broker keeps no state on disk, so a broker that has just started cannot tell a cold
// start from a restart: after a restart, workers still run the sessions of the broker that
// died and report them as they reconnect. Any worker that does not report within one worker
// expiry (liveness x heartbeat + fence margin) has by then lost its lease and stopped its
// sessions, so that expiry after start is when the registry is surely complete.
//
// Until then, once there is evidence of a restart (a worker reconnecting, or reporting
// sessions), the broker is "recovering": it does not place names no worker has reported
// (a worker yet to reconnect may run them) and it answers `unavailable`, not `not_found`,
// for names it does not know yet. Before any worker has connected, it cannot tell either,
// and answers unknown names the same way.
class RecoveryWindow {
 public:
  // `started`: when the broker started; `length`: one worker expiry.
  RecoveryWindow(TimePoint started, Millis length) : ends_(started + length) {}

  // A worker registered; `rejoining`: it had been welcomed by a broker before;
  // `holds_sessions`: its `ready` reported sessions.
  void noteWorker(bool rejoining, bool holds_sessions, TimePoint now) {
    any_worker_ = true;
    if ((rejoining || holds_sessions) && now < ends_) evidence_ = true;
  }

  // A restart is evident and workers may still report sessions: hold placements back.
  bool recovering(TimePoint now) const { return evidence_ && now < ends_; }

  // A name the broker does not know may still be reported by a worker.
  bool uncertain(TimePoint now) const { return now < ends_ && (evidence_ || !any_worker_); }

  // When the window closes.
  TimePoint ends() const { return ends_; }

  // True once, at the first call at or after the end of a window that was recovering: the
  // caller then places the names held back.
  bool takeEnd(TimePoint now) {
    if (!evidence_ || ended_ || now < ends_) return false;
    ended_ = true;
    return true;
  }

 private:
  TimePoint ends_;           // started + one worker expiry
  bool any_worker_ = false;  // a worker has registered since start
  bool evidence_ = false;    // a worker showed that a broker ran before this one
  bool ended_ = false;       // takeEnd() has fired
};

}  // namespace ccmesh::broker
