#pragma once

#include <string>

namespace ccmesh {

// A random RFC 4122 version 4 UUID in lowercase text form (the CLI's --session-id).
std::string randomUuid();

}  // namespace ccmesh
