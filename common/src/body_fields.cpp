#include "ccmesh/common/body_fields.hpp"

#include "ccmesh/common/limits.hpp"

namespace ccmesh {
namespace {

// Containers nested deeper than this are refused (decodeFrames allows
// limits::kMaxUnpackDepth; a body this deep is not a streamed event, and refusing sends it
// the ordinary way).
constexpr int kMaxDepth = 8;

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
  id_pair_start_ = id_pair_end_ = 0;
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
      if (slot == 0) {
        id_pair_start_ = pair_start;
        id_pair_end_ = at.offset();
      }
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

void BodyFields::writeWithId(uint64_t id, msgpack::sbuffer& out) const {
  out.clear();
  const bool had_id = !values_[0].empty();
  msgpack::packer<msgpack::sbuffer> packer(out);
  packer.pack_map(static_cast<uint32_t>(pairs_ - (had_id ? 1 : 0) + 1));
  packer.pack(std::string_view("id"));
  packer.pack(id);
  if (!had_id) {
    out.write(body_.data() + pairs_start_, body_.size() - pairs_start_);
    return;
  }
  out.write(body_.data() + pairs_start_, id_pair_start_ - pairs_start_);
  out.write(body_.data() + id_pair_end_, body_.size() - id_pair_end_);
}

}  // namespace ccmesh
