#pragma once

#include <cstdint>
#include <msgpack.hpp>

namespace ccmesh::broker {

// Re-encodes a reply body (a msgpack map) with its `id` replaced, every other key kept as
// sent, unknown ones included: the broker relays worker replies to clients without
// knowing every field they may carry. Adds `id` if the map had none.
msgpack::sbuffer rewriteId(const msgpack::object& body, uint64_t id);

}  // namespace ccmesh::broker
