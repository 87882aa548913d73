#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "ccmesh/client/client.hpp"

namespace ccmesh::bench {

// Answers per second with `in_flight` queries outstanding, one per session (`session(i)`
// for i < in_flight), until `count` came back; each answer sends the next prompt to the
// session that answered. Throws std::runtime_error when a query fails or nothing answers
// within 30 s.
double closedLoopThroughput(client::Client& client,
                            const std::function<std::string(std::size_t)>& session,
                            std::size_t in_flight, std::size_t count);

}  // namespace ccmesh::bench
