#include "reply_rewrite.hpp"

#include <string_view>

namespace ccmesh::broker {

msgpack::sbuffer rewriteId(const msgpack::object& body, uint64_t id) {
  if (body.type == msgpack::type::MAP) return withKey(body.via.map, "id", id);
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_map(1);
  packer.pack(std::string_view("id"));
  packer.pack(id);
  return buffer;
}

}  // namespace ccmesh::broker
