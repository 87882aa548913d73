#include "ccmesh/common/codec.hpp"

#include <algorithm>
#include <string>

#include "ccmesh/common/limits.hpp"

namespace ccmesh {
namespace {

DecodeError bad(std::string message, uint64_t id = 0) {
  return DecodeError{{ErrorCode::kBadRequest, std::move(message)}, id};
}

// Unpacks one body frame within the protocol's limits; the text says why it could not.
Expected<msgpack::object_handle, std::string> unpackBody(const zmq::message_t& body) {
  if (body.size() > limits::kMaxBodyBytes) return std::string("body too large");
  msgpack::object_handle handle;
  try {
    std::size_t offset = 0;
    handle = msgpack::unpack(static_cast<const char*>(body.data()), body.size(), offset, nullptr,
                             nullptr,
                             msgpack::unpack_limit(limits::kMaxUnpackItems, limits::kMaxUnpackItems,
                                                   limits::kMaxBodyBytes, limits::kMaxBodyBytes, 0,
                                                   limits::kMaxUnpackDepth));
    if (offset != body.size()) return std::string("trailing bytes after the body");
  } catch (const std::exception& e) {
    return std::string("body is not valid msgpack: ") + e.what();
  }
  if (handle.get().type != msgpack::type::MAP) return std::string("body must be a msgpack map");
  return handle;
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

// The id of a body frame that is a map with an unsigned `id`, else 0: for answering a
// message that is refused before its body is looked at.
uint64_t readableId(const zmq::message_t& body) {
  auto handle = unpackBody(body);
  return handle ? findId(handle->get()) : 0;
}

// True if a msgpack `bin` sits anywhere in `object`: strings travel as `str`, and a `bin`
// would otherwise pass for one. `path` then says where (".options.cwd", "[2]"); it is built
// only on the way out of a find.
bool findBin(const msgpack::object& object, std::string& path) {
  switch (object.type) {
    case msgpack::type::BIN:
      return true;
    case msgpack::type::ARRAY:
      for (uint32_t i = 0; i < object.via.array.size; ++i) {
        if (findBin(object.via.array.ptr[i], path)) {
          path = "[" + std::to_string(i) + "]" + path;
          return true;
        }
      }
      return false;
    case msgpack::type::MAP:
      for (uint32_t i = 0; i < object.via.map.size; ++i) {
        const auto& kv = object.via.map.ptr[i];
        if (kv.key.type != msgpack::type::BIN && !findBin(kv.val, path)) continue;
        // A bin key is itself what is found.
        std::string_view key = "?";
        if (kv.key.type == msgpack::type::STR) key = {kv.key.via.str.ptr, kv.key.via.str.size};
        if (kv.key.type == msgpack::type::BIN) key = {kv.key.via.bin.ptr, kv.key.via.bin.size};
        path = "." + std::string(key.substr(0, 64)) + path;
        return true;
      }
      return false;
    default:
      return false;
  }
}

}  // namespace

Expected<Envelope, DecodeError> decodeFrames(std::span<const zmq::message_t> frames) {
  if (frames.empty()) return bad("empty message");
  // Only a message of three frames has a body to read an id from.
  const bool three = frames.size() == 3;
  if (frames[0].to_string_view() != kProtocolTag) {
    return DecodeError{
        {ErrorCode::kVersionMismatch, "expected protocol tag CCM1 in the first frame"},
        three ? readableId(frames[2]) : 0};
  }
  if (!three) {
    return bad("expected 3 frames [CCM1][type][body], got " + std::to_string(frames.size()));
  }
  auto body = unpackBody(frames[2]);
  if (!body) return bad(body.error());
  Envelope envelope;
  envelope.body = std::move(body.value());
  const auto& object = envelope.body.get();
  envelope.id = findId(object);
  auto type = parseMessageType(frames[1].to_string_view());
  if (!type) {
    std::string name(frames[1].to_string_view().substr(0, 32));
    return bad("unknown message type '" + name + "'", envelope.id);
  }
  envelope.type = *type;
  if (std::string at; findBin(object, at)) {
    return bad("field " + at.substr(1) + ": msgpack bin where a str belongs (strings are str)",
               envelope.id);
  }
  return envelope;
}

}  // namespace ccmesh
