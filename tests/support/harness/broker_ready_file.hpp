#pragma once

#include <string>

#include "ccmesh/common/clock.hpp"
#include "harness/process.hpp"
#include "harness/wait_for.hpp"

namespace ccmesh::test {

// The endpoints a broker bound, resolved (real ports for wildcards), from its --ready-file.
struct BrokerEndpoints {
  std::string frontend;  // the client endpoint
  std::string backend;   // the worker endpoint
  std::string http;      // the HTTP endpoint's URL (empty: none)
};

// Waits until `broker` has written both endpoints to its ready file `path`, or has exited.
// Throws std::runtime_error, with the broker's log, if it did not bind both by `deadline`.
BrokerEndpoints waitForBrokerEndpoints(Process& broker, const std::string& path,
                                       Millis deadline = kEventDeadline);

}  // namespace ccmesh::test
