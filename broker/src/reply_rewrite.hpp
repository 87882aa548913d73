#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string_view>

namespace ccmesh::broker {

// Re-encodes a reply body (a msgpack map) with its `id` replaced, every other key kept as
// sent, unknown ones included: the broker relays worker replies to clients without
// knowing every field they may carry. Adds `id` if the map had none.
msgpack::sbuffer rewriteId(const msgpack::object& body, uint64_t id);

// Re-encodes a msgpack map with `key` set to `value` (put first; duplicates of the key
// collapse into one), every other key kept as sent.
template <class T>
msgpack::sbuffer withKey(const msgpack::object_map& map, std::string_view key, const T& value) {
  auto same = [key](const msgpack::object& k) {
    return k.type == msgpack::type::STR && std::string_view(k.via.str.ptr, k.via.str.size) == key;
  };
  uint32_t copies = 0;
  for (uint32_t i = 0; i < map.size; ++i) copies += same(map.ptr[i].key) ? 1 : 0;
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_map(map.size - copies + 1);
  packer.pack(key);
  packer.pack(value);
  for (uint32_t i = 0; i < map.size; ++i) {
    if (same(map.ptr[i].key)) continue;
    packer.pack(map.ptr[i].key);
    packer.pack(map.ptr[i].val);
  }
  return buffer;
}

}  // namespace ccmesh::broker
