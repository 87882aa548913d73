#include "reply_rewrite.hpp"

namespace ccmesh::broker {

msgpack::sbuffer rewriteId(const msgpack::object& body, uint64_t id, std::string_view pool) {
  // Keys set here replace those sent (duplicates of them collapse into one).
  auto replaced = [&pool](const msgpack::object& key) {
    if (key.type != msgpack::type::STR) return false;
    const std::string_view name(key.via.str.ptr, key.via.str.size);
    return name == "id" || (!pool.empty() && name == "pool");
  };
  const bool map = body.type == msgpack::type::MAP;
  uint32_t kept = 0;
  for (uint32_t i = 0; map && i < body.via.map.size; ++i) {
    kept += replaced(body.via.map.ptr[i].key) ? 0 : 1;
  }
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_map(kept + 1 + (pool.empty() ? 0 : 1));
  packer.pack(std::string_view("id"));
  packer.pack(id);
  if (!pool.empty()) {
    packer.pack(std::string_view("pool"));
    packer.pack(pool);
  }
  for (uint32_t i = 0; map && i < body.via.map.size; ++i) {
    const auto& pair = body.via.map.ptr[i];
    if (replaced(pair.key)) continue;
    packer.pack(pair.key);
    packer.pack(pair.val);
  }
  return buffer;
}

}  // namespace ccmesh::broker
