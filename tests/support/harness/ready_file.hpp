#pragma once

#include <map>
#include <string>
#include <vector>

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

// Waits until `process` has written every one of `keys` to its ready file `path` (key=value
// lines), or has exited; returns what the file holds. Throws std::runtime_error, with the
// process's log, if a key is missing at `deadline`.
std::map<std::string, std::string> waitForReadyFile(Process& process, const std::string& path,
                                                    const std::vector<std::string>& keys,
                                                    Millis deadline = kEventDeadline);

// Waits until `broker` has written both endpoints to its ready file `path`, or has exited.
// Throws std::runtime_error, with the broker's log, if it did not bind both by `deadline`.
BrokerEndpoints waitForBrokerEndpoints(Process& broker, const std::string& path,
                                       Millis deadline = kEventDeadline);

}  // namespace ccmesh::test
