#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <msgpack.hpp>
#include <optional>
#include <string_view>

namespace ccmesh {

// Reads a few top-level fields of a message body (a msgpack map) where they lie in the
// received frame, without building msgpack objects or copying strings, and writes the body
// again with another `id` by copying the other pairs' bytes. The broker reads a client's
// `query` and relays a worker's streamed `event`s and `result`s this way.
//
// read() accepts only what decodeFrames and decodeBody would accept alike: a map within the
// protocol's limits, keys all str, no bin or ext anywhere, each read key at most once.
// Anything else is refused, to be decoded the ordinary way (which answers it, or not, as
// for any message). Nothing is allocated; the views point into the body read.
class BodyFields {
 public:
  // Keys read besides `id`.
  static constexpr std::size_t kMaxKeys = 5;

  // `keys`: the fields to read besides `id` (at most kMaxKeys), by their index in this list.
  explicit BodyFields(std::initializer_list<std::string_view> keys);

  // Reads `body`; false when it is refused (see above), and then nothing else holds.
  bool read(std::string_view body);

  // Bytes of the body read.
  std::size_t size() const { return body_.size(); }
  // The body's `id` (0 when it has none), or nullopt when it is not a non-negative integer.
  std::optional<uint64_t> id() const { return unsignedAt(0); }
  // Field `index` as a non-negative integer (0 when absent); nullopt: another type.
  std::optional<uint64_t> unsignedField(std::size_t index) const { return unsignedAt(index + 1); }
  // Field `index` as a string ("" when absent); nullopt: another type.
  std::optional<std::string_view> stringField(std::size_t index) const;
  // Field `index` as a bool (false when absent); nullopt: another type.
  std::optional<bool> boolField(std::size_t index) const;
  // Field `index` as a number, integer or float (0 when absent); nullopt: another type, or
  // a negative integer.
  std::optional<double> numberField(std::size_t index) const;

  // A string field written in place of the one read, or added: field `index`, its `text`.
  struct StringOverride {
    std::size_t index = 0;
    std::string_view text;
  };

  // Writes into `out` (cleared first) the body read, `id` set to `id` and first, then the
  // field `set` overrides (if any), then every other pair as it was.
  void writeWithId(uint64_t id, msgpack::sbuffer& out,
                   std::optional<StringOverride> set = std::nullopt) const;

 private:
  // Where one value lies in the body; empty when its key is absent.
  using Span = std::string_view;

  std::optional<uint64_t> unsignedAt(std::size_t slot) const;
  // Appends the body's pairs to `out`, leaving out those of the keys in slots `first` and
  // `second` (each one or none: SIZE_MAX).
  void copyPairsExcept(std::size_t first, std::size_t second, msgpack::sbuffer& out) const;

  std::array<std::string_view, kMaxKeys + 1> keys_{};    // "id", then the keys asked for
  std::size_t key_count_ = 1;                            // entries of keys_ in use
  std::array<Span, kMaxKeys + 1> values_{};              // each key's value bytes, as keys_
  std::array<std::size_t, kMaxKeys + 1> pair_starts_{};  // offset of each key read, as keys_
  std::array<std::size_t, kMaxKeys + 1> pair_ends_{};    // offset just past its value
  std::string_view body_;                                // the body read
  std::size_t pairs_ = 0;                                // pairs of its map
  std::size_t pairs_start_ = 0;                          // offset of its first key
};

}  // namespace ccmesh
