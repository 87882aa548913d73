#pragma once

#include <cstdint>

namespace ccmesh::broker {

// Counters the broker keeps about itself; `status` reports some, tests assert on all.
struct BrokerStats {
  uint64_t malformed_messages = 0;  // frames or bodies rejected (answered bad_request etc.)
  uint64_t stale_messages = 0;      // worker messages about another generation or placement
  uint64_t dropped_events = 0;      // events not sent because a client was not reading
  uint64_t dropped_replies = 0;     // final replies lost: a client's backlog was full
  uint64_t workers_lost = 0;        // workers declared dead (silence, bye, unreachable)
  uint64_t refused_handshakes = 0;  // CURVE handshakes the ZAP handler refused (unknown keys)
  uint64_t unauthorized = 0;        // messages refused: key no longer allowed, or wrong role
  uint64_t refused_worker_ids = 0;  // worker messages refused: the worker id is not the
                                    // allow-list name of the key that sent them
  uint64_t reloads = 0;             // allow-list reloads (SIGHUP) that took effect
  uint64_t failed_reloads = 0;      // allow-list reloads refused (a list did not parse)
};

}  // namespace ccmesh::broker
