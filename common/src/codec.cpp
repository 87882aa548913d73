#include "ccmesh/common/codec.hpp"

#include "ccmesh/common/limits.hpp"

namespace ccmesh {
namespace {

DecodeError bad(std::string message, uint64_t id = 0) {
  return DecodeError{{ErrorCode::kBadRequest, std::move(message)}, id};
}

// Reads the `id` field of a body map, if it is a non-negative integer.
uint64_t findId(const msgpack::object& map) {
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == "id" &&
        kv.val.type == msgpack::type::POSITIVE_INTEGER) {
      return kv.val.via.u64;
    }
  }
  return 0;
}

}  // namespace

Expected<Envelope, DecodeError> decodeFrames(std::span<const zmq::message_t> frames) {
  if (frames.empty()) return bad("empty message");
  if (frames[0].to_string_view() != kProtocolTag) {
    return DecodeError{
        {ErrorCode::kVersionMismatch, "expected protocol tag CCM1 in the first frame"}, 0};
  }
  if (frames.size() != 3) {
    return bad("expected 3 frames [CCM1][type][body], got " + std::to_string(frames.size()));
  }
  auto type = parseMessageType(frames[1].to_string_view());
  if (!type) {
    std::string name(frames[1].to_string_view().substr(0, 32));
    return bad("unknown message type '" + name + "'");
  }
  const auto& body = frames[2];
  if (body.size() > limits::kMaxBodyBytes) return bad("body too large");
  Envelope envelope;
  envelope.type = *type;
  try {
    std::size_t offset = 0;
    envelope.body = msgpack::unpack(
        static_cast<const char*>(body.data()), body.size(), offset, nullptr, nullptr,
        msgpack::unpack_limit(limits::kMaxUnpackItems, limits::kMaxUnpackItems,
                              limits::kMaxBodyBytes, limits::kMaxBodyBytes, 0,
                              limits::kMaxUnpackDepth));
    if (offset != body.size()) return bad("trailing bytes after the body");
  } catch (const std::exception& e) {
    return bad(std::string("body is not valid msgpack: ") + e.what());
  }
  const auto& object = envelope.body.get();
  if (object.type != msgpack::type::MAP) return bad("body must be a msgpack map");
  envelope.id = findId(object);
  return envelope;
}

}  // namespace ccmesh
