#include "ccmesh/common/body_fields.hpp"

#include <bit>
#include <utility>

#include "ccmesh/common/limits.hpp"

namespace ccmesh {
namespace {

// Containers nested deeper than this are refused (decodeFrames allows
// limits::kMaxUnpackDepth; a body this deep is not a streamed event, and refusing sends it
// the ordinary way).
constexpr int kMaxDepth = 8;

// No slot: a pair not to leave out.
constexpr std::size_t kNoSlot = SIZE_MAX;

// A position in the body and the bytes left.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}

  std::size_t offset() const { return offset_; }
  bool atEnd() const { return offset_ == bytes_.size(); }
  // Takes `n` bytes; false if fewer are left.
  bool skip(std::size_t n) {
    if (bytes_.size() - offset_ < n) return false;
    offset_ += n;
    return true;
  }
  // Takes one byte into `out`.
  bool byte(uint8_t& out) {
    if (atEnd()) return false;
    out = static_cast<uint8_t>(bytes_[offset_++]);
    return true;
  }
  // Takes an unsigned big-endian integer of `n` bytes.
  bool bigEndian(std::size_t n, uint64_t& out) {
    if (bytes_.size() - offset_ < n) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) out = (out << 8) | static_cast<uint8_t>(bytes_[offset_++]);
    return true;
  }

 private:
  std::string_view bytes_;  // the whole body
  std::size_t offset_ = 0;  // the next byte
};

// What a header byte (and its length bytes) announce.
struct Header {
  enum class Kind { kScalar, kString, kArray, kMap, kRefused } kind = Kind::kRefused;
  uint64_t size = 0;  // bytes of a scalar's or string's payload; items of an array or map
};

// Reads one value's header; the cursor then stands at its payload (or first item).
bool readHeader(Cursor& at, Header& header) {
  uint8_t first = 0;
  if (!at.byte(first)) return false;
  using Kind = Header::Kind;
  auto announce = [&](Kind kind, uint64_t size) {
    header = {kind, size};
    return true;
  };
  auto scalar = [&](uint64_t size) { return announce(Kind::kScalar, size); };
  auto sized = [&](Kind kind, std::size_t length_bytes) {
    header.kind = kind;
    return at.bigEndian(length_bytes, header.size);
  };
  if (first <= 0x7f || first >= 0xe0) return scalar(0);  // fixints
  if (first <= 0x8f) return announce(Kind::kMap, first & 0x0fu);
  if (first <= 0x9f) return announce(Kind::kArray, first & 0x0fu);
  if (first <= 0xbf) return announce(Kind::kString, first & 0x1fu);
  switch (first) {
    case 0xc0:  // nil
    case 0xc2:  // false
    case 0xc3:  // true
      return scalar(0);
    case 0xca:
      return scalar(4);  // float 32
    case 0xcb:
      return scalar(8);  // float 64
    case 0xcc:
    case 0xd0:
      return scalar(1);
    case 0xcd:
    case 0xd1:
      return scalar(2);
    case 0xce:
    case 0xd2:
      return scalar(4);
    case 0xcf:
    case 0xd3:
      return scalar(8);
    case 0xd9:
      return sized(Kind::kString, 1);
    case 0xda:
      return sized(Kind::kString, 2);
    case 0xdb:
      return sized(Kind::kString, 4);
    case 0xdc:
      return sized(Kind::kArray, 2);
    case 0xdd:
      return sized(Kind::kArray, 4);
    case 0xde:
      return sized(Kind::kMap, 2);
    case 0xdf:
      return sized(Kind::kMap, 4);
    default:
      return false;  // 0xc1 (never used), bin (strings are str) and ext: refused
  }
}

// Skips one value whose header has been read; false if it is refused or cut short.
bool skipPayload(Cursor& at, const Header& header, int depth) {
  using Kind = Header::Kind;
  switch (header.kind) {
    case Kind::kScalar:
    case Kind::kString:
      return at.skip(header.size);
    case Kind::kArray:
    case Kind::kMap: {
      if (depth >= kMaxDepth || header.size > limits::kMaxUnpackItems) return false;
      const uint64_t values = header.kind == Kind::kMap ? header.size * 2 : header.size;
      for (uint64_t i = 0; i < values; ++i) {
        Header inner;
        if (!readHeader(at, inner) || !skipPayload(at, inner, depth + 1)) return false;
      }
      return true;
    }
    case Kind::kRefused:
      return false;
  }
  return false;
}

}  // namespace

BodyFields::BodyFields(std::initializer_list<std::string_view> keys) {
  keys_[0] = "id";
  for (std::string_view key : keys) {
    if (key_count_ < keys_.size()) keys_[key_count_++] = key;
  }
}

bool BodyFields::read(std::string_view body) {
  body_ = {};
  values_.fill({});
  if (body.size() > limits::kMaxBodyBytes) return false;
  Cursor at(body);
  Header map;
  if (!readHeader(at, map) || map.kind != Header::Kind::kMap ||
      map.size > limits::kMaxUnpackItems) {
    return false;
  }
  pairs_ = map.size;
  pairs_start_ = at.offset();
  std::array<bool, kMaxKeys + 1> seen{};
  for (std::size_t pair = 0; pair < pairs_; ++pair) {
    const std::size_t pair_start = at.offset();
    Header key;
    // decodeBody refuses a map with a key that is not a str.
    if (!readHeader(at, key) || key.kind != Header::Kind::kString) return false;
    const std::size_t key_start = at.offset();
    if (!at.skip(key.size)) return false;
    const std::string_view name = body.substr(key_start, key.size);
    const std::size_t value_start = at.offset();
    Header value;
    if (!readHeader(at, value) || !skipPayload(at, value, 1)) return false;
    for (std::size_t slot = 0; slot < key_count_; ++slot) {
      if (name != keys_[slot]) continue;
      if (seen[slot]) return false;  // a repeated key: left to the ordinary decoding
      seen[slot] = true;
      values_[slot] = body.substr(value_start, at.offset() - value_start);
      pair_starts_[slot] = pair_start;
      pair_ends_[slot] = at.offset();
      break;
    }
  }
  if (!at.atEnd()) return false;  // trailing bytes
  body_ = body;
  return true;
}

std::optional<uint64_t> BodyFields::unsignedAt(std::size_t slot) const {
  const Span value = values_[slot];
  if (value.empty()) return 0;
  const auto first = static_cast<uint8_t>(value[0]);
  if (first <= 0x7f) return first;
  uint64_t magnitude = 0;
  Cursor at(value.substr(1));
  switch (first) {
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
      at.bigEndian(value.size() - 1, magnitude);
      return magnitude;
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      // A signed encoding of a value that is not negative is an unsigned integer too.
      at.bigEndian(value.size() - 1, magnitude);
      const uint64_t sign = uint64_t{1} << (8 * (value.size() - 1) - 1);
      if ((magnitude & sign) != 0) return std::nullopt;
      return magnitude;
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string_view> BodyFields::stringField(std::size_t index) const {
  const Span value = values_[index + 1];
  if (value.empty()) return std::string_view{};
  Cursor at(value);
  Header header;
  if (!readHeader(at, header) || header.kind != Header::Kind::kString) return std::nullopt;
  return value.substr(at.offset());
}

std::optional<bool> BodyFields::boolField(std::size_t index) const {
  const Span value = values_[index + 1];
  if (value.empty()) return false;
  switch (static_cast<uint8_t>(value[0])) {
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    default:
      return std::nullopt;
  }
}

std::optional<double> BodyFields::numberField(std::size_t index) const {
  const Span value = values_[index + 1];
  if (value.empty()) return 0.0;
  const auto first = static_cast<uint8_t>(value[0]);
  Cursor at(value.substr(1));
  uint64_t bits = 0;
  if (first == 0xca) {
    at.bigEndian(4, bits);
    return static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(bits)));
  }
  if (first == 0xcb) {
    at.bigEndian(8, bits);
    return std::bit_cast<double>(bits);
  }
  const auto integer = unsignedAt(index + 1);
  if (!integer) return std::nullopt;
  return static_cast<double>(*integer);
}

void BodyFields::writeWithId(uint64_t id, msgpack::sbuffer& out,
                             std::optional<StringOverride> set) const {
  out.clear();
  const std::size_t set_slot = set ? set->index + 1 : 0;
  const bool had_id = !values_[0].empty();
  const bool had_set = set && !values_[set_slot].empty();
  msgpack::packer<msgpack::sbuffer> packer(out);
  packer.pack_map(
      static_cast<uint32_t>(pairs_ - (had_id ? 1 : 0) - (had_set ? 1 : 0) + 1 + (set ? 1 : 0)));
  packer.pack(std::string_view("id"));
  packer.pack(id);
  if (set) {
    packer.pack(keys_[set_slot]);
    packer.pack(set->text);
  }
  copyPairsExcept(had_id ? 0 : kNoSlot, had_set ? set_slot : kNoSlot, out);
}

void BodyFields::copyPairsExcept(std::size_t first, std::size_t second,
                                 msgpack::sbuffer& out) const {
  // The left-out pairs' spans, in the order they lie in the body.
  std::array<std::pair<std::size_t, std::size_t>, 2> gaps{};
  std::size_t count = 0;
  for (std::size_t slot : {first, second}) {
    if (slot == kNoSlot) continue;
    gaps[count++] = {pair_starts_[slot], pair_ends_[slot]};
  }
  if (count == 2 && gaps[1].first < gaps[0].first) std::swap(gaps[0], gaps[1]);
  std::size_t from = pairs_start_;
  for (std::size_t i = 0; i < count; ++i) {
    out.write(body_.data() + from, gaps[i].first - from);
    from = gaps[i].second;
  }
  out.write(body_.data() + from, body_.size() - from);
}

}  // namespace ccmesh
