#pragma once

#include <cstddef>
#include <string>

namespace ccmesh::bench {

// The limit beside the fleet's figures: a plain ZeroMQ relay in a process of its own doing
// the same hops as the broker with nothing decoded. A frontend ROUTER takes client
// messages and hands each, prefixed with the client's routing id, to the next worker in
// turn on a backend ROUTER; a worker's message carrying such a prefix goes back to that
// client, any other (ready, heartbeat) is echoed to the worker unchanged, as the broker
// answers each heartbeat. Workers become known by their first message.
class FleetRelay {
 public:
  // `workers`: how many workers to expect; the relay prints "all workers in" once that
  // many are known.
  explicit FleetRelay(std::size_t workers) : expected_(workers) {}

  // Binds both ROUTERs on wildcard loopback ports, prints "relay FRONTEND BACKEND" on
  // stdout, and relays until the process is killed.
  [[noreturn]] void run();

 private:
  std::size_t expected_;  // workers to wait for
};

}  // namespace ccmesh::bench
