#pragma once

#include <sys/types.h>

#include <vector>

namespace ccmesh::test {

// The TCP ports process `pid` listens on now (IPv4 and IPv6), read from /proc: how a test
// finds the port a program bound when it was given port 0 and does not say which one it got.
std::vector<int> listeningPorts(pid_t pid);

}  // namespace ccmesh::test
