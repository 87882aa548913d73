#pragma once

#include <string>
#include <string_view>

namespace ccmesh::broker {

// A routing id as logs can show it: as is when printable, else "0x" + hex (ZeroMQ's
// generated ids are 5 binary bytes). Bounded to 64 input bytes.
std::string peerName(std::string_view routing_id);

}  // namespace ccmesh::broker
