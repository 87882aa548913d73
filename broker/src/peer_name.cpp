#include "peer_name.hpp"

#include <algorithm>

namespace ccmesh::broker {

std::string peerName(std::string_view routing_id) {
  routing_id = routing_id.substr(0, 64);
  const bool printable =
      !routing_id.empty() && std::all_of(routing_id.begin(), routing_id.end(),
                                         [](char c) { return c > 0x20 && c < 0x7f; });
  if (printable) return std::string(routing_id);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = "0x";
  for (unsigned char c : routing_id) {
    text += kHex[c >> 4];
    text += kHex[c & 0xf];
  }
  return text;
}

}  // namespace ccmesh::broker
