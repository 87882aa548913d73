#include "reply_rewrite.hpp"

#include <string_view>

namespace ccmesh::broker {

msgpack::sbuffer rewriteId(const msgpack::object& body, uint64_t id) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  if (body.type != msgpack::type::MAP) {
    packer.pack_map(1);
    packer.pack(std::string_view("id"));
    packer.pack(id);
    return buffer;
  }
  const auto& map = body.via.map;
  auto isId = [](const msgpack::object& key) {
    return key.type == msgpack::type::STR &&
           std::string_view(key.via.str.ptr, key.via.str.size) == "id";
  };
  uint32_t ids = 0;
  for (uint32_t i = 0; i < map.size; ++i) ids += isId(map.ptr[i].key) ? 1 : 0;
  // Duplicate `id` keys collapse into one.
  packer.pack_map(map.size - ids + 1);
  packer.pack(std::string_view("id"));
  packer.pack(id);
  for (uint32_t i = 0; i < map.size; ++i) {
    if (isId(map.ptr[i].key)) continue;
    packer.pack(map.ptr[i].key);
    packer.pack(map.ptr[i].val);
  }
  return buffer;
}

}  // namespace ccmesh::broker
