#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::bench {

// The shape of the simulated workers' answers and of their registration.
struct FleetShape {
  std::string backend;           // where the workers connect (the broker's or the relay's)
  std::string prefix = "w";      // worker ids are PREFIX-FIRST .. PREFIX-(FIRST+COUNT-1)
  std::size_t first = 0;         // the first worker's number
  std::size_t count = 1;         // workers in this process
  uint32_t capacity = 1000;      // sessions each may host
  Millis heartbeat{1000};        // each worker's heartbeat interval
  Millis answer_delay{0};        // from a query's arrival to its first delta
  std::size_t deltas = 100;      // deltas in each answer
  std::size_t delta_bytes = 20;  // text bytes in each delta
  bool report_assigned = false;  // print "assigned NAME" on stdout for each `assign`
};

// Many workers speaking the real worker protocol from one thread of one process: a DEALER
// each, `ready` at start (again when the broker asks them to rejoin), heartbeats on their
// own timers (spread over the interval), `assign` and `start` acknowledged as hibernated
// on-demand sessions, and every `query` answered with `delivered`, then after the delay
// `deltas` delta events and a `result` — no CLI, so what costs is the broker's routing.
// A query whose prompt begins with kMergedPrompt streams its deltas through the worker's
// DeltaCoalescer, as a real worker does with deltas it reads from its CLI at once (the first
// leaves alone, the rest merged); any other prompt gets every delta as an event of its own.
// A message arriving with one frame more than the broker sends ([client][CCM1][type][body],
// from the plain relay of the limit) is answered the same way, prefixed with that frame.
// Queries are answered independently (a session answers several at once): the point is the
// router's cost, not a session's queue.
inline constexpr std::string_view kMergedPrompt = "merged:";

class SimulatedFleet {
 public:
  explicit SimulatedFleet(FleetShape shape);

  // Runs until the process is killed.
  [[noreturn]] void run();

 private:
  FleetShape shape_;  // what to simulate
};

}  // namespace ccmesh::bench
