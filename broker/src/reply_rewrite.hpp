#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string_view>

namespace ccmesh::broker {

// Re-encodes a reply body (a msgpack map) with its `id` replaced, every other key kept as
// sent, unknown ones included: the broker relays worker replies to clients without
// knowing every field they may carry. Adds `id` if the map had none.
// A non-empty `pool` is set as the `pool` key the same way (a pool query's result).
msgpack::sbuffer rewriteId(const msgpack::object& body, uint64_t id, std::string_view pool = {});

}  // namespace ccmesh::broker
