#pragma once

#include <cstdint>
#include <exception>
#include <msgpack.hpp>
#include <span>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/expected.hpp"
#include "ccmesh/common/message_type.hpp"

namespace ccmesh {

// First frame of every ccmesh message; a peer sending anything else gets version_mismatch.
inline constexpr std::string_view kProtocolTag = "CCM1";

// A message whose frames were valid: its type and its body, still as a msgpack object.
struct Envelope {
  MessageType type = MessageType::kPing;
  uint64_t id = 0;              // the body's `id` field, 0 when absent
  msgpack::object_handle body;  // a msgpack map
};

// Why frames could not be decoded, and the request id to answer if one could be read.
struct DecodeError {
  Error error;
  uint64_t id = 0;
};

// Turns the frames after the routing ids (["CCM1"][type][body]) into an envelope, or a
// typed error. Never throws, bounded in what it allocates.
Expected<Envelope, DecodeError> decodeFrames(std::span<const zmq::message_t> frames);

// Converts an envelope's body into a typed message, or a bad_request error naming the
// problem. Never throws.
template <class T>
Expected<T, DecodeError> decodeBody(const Envelope& envelope) {
  try {
    T value;
    envelope.body.get().convert(value);
    return value;
  } catch (const msgpack::type_error&) {
    return DecodeError{{ErrorCode::kBadRequest, std::string(messageTypeName(envelope.type)) +
                                                    ": a field has the wrong type"},
                       envelope.id};
  } catch (const std::exception& e) {
    return DecodeError{{ErrorCode::kBadRequest, e.what()}, envelope.id};
  }
}

// The first block of an encoded body.
inline constexpr std::size_t kEncodeFirstBytes = 512;

// Packs a body into a buffer ready to be the third frame.
template <class T>
msgpack::sbuffer encodeBody(const T& body) {
  // Most bodies are small: msgpack's default first block (8 KiB) made every message cost a
  // large allocation, which glibc serves slowly and zeroes pages for. It grows as needed.
  msgpack::sbuffer buffer(kEncodeFirstBytes);
  msgpack::pack(buffer, body);
  return buffer;
}

}  // namespace ccmesh
