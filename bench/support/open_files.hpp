#pragma once

namespace ccmesh::bench {

// Raises this process's open-file limit to its hard limit: every simulated worker or client
// socket holds a TCP connection, and children inherit the limit.
void raiseOpenFileLimit();

}  // namespace ccmesh::bench
