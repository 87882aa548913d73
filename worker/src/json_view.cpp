#include "ccmesh/worker/json_view.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ccmesh::worker {
namespace {

// Deeper nesting than this is treated as malformed (and cannot exhaust the stack).
constexpr int kMaxDepth = 256;
constexpr std::size_t kBad = std::string_view::npos;

std::size_t skipSpace(std::string_view text, std::size_t pos) {
  while (pos < text.size() &&
         (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) {
    ++pos;
  }
  return pos;
}

// pos is at the opening quote; returns the position after the closing quote.
std::size_t skipString(std::string_view text, std::size_t pos) {
  const char* base = text.data();
  std::size_t at = pos + 1;
  while (at < text.size()) {
    const void* found = std::memchr(base + at, '"', text.size() - at);
    if (found == nullptr) return kBad;
    const std::size_t quote = static_cast<const char*>(found) - base;
    std::size_t backslashes = 0;
    while (quote - backslashes > pos + 1 && base[quote - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return quote + 1;
    at = quote + 1;
  }
  return kBad;
}

std::size_t skipValue(std::string_view text, std::size_t pos, int depth);

std::size_t skipContainer(std::string_view text, std::size_t pos, int depth, bool object) {
  if (depth > kMaxDepth) return kBad;
  const char close = object ? '}' : ']';
  pos = skipSpace(text, pos + 1);
  if (pos < text.size() && text[pos] == close) return pos + 1;
  while (pos < text.size()) {
    if (object) {
      if (text[pos] != '"') return kBad;
      pos = skipString(text, pos);
      if (pos == kBad) return kBad;
      pos = skipSpace(text, pos);
      if (pos >= text.size() || text[pos] != ':') return kBad;
      pos = skipSpace(text, pos + 1);
    }
    pos = skipValue(text, pos, depth + 1);
    if (pos == kBad) return kBad;
    pos = skipSpace(text, pos);
    if (pos >= text.size()) return kBad;
    if (text[pos] == close) return pos + 1;
    if (text[pos] != ',') return kBad;
    pos = skipSpace(text, pos + 1);
  }
  return kBad;
}

std::size_t skipLiteral(std::string_view text, std::size_t pos, std::string_view literal) {
  return text.substr(pos, literal.size()) == literal ? pos + literal.size() : kBad;
}

std::size_t skipNumber(std::string_view text, std::size_t pos) {
  const std::size_t start = pos;
  while (pos < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '-' ||
          text[pos] == '+' || text[pos] == '.' || text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
  }
  return pos > start ? pos : kBad;
}

// Returns the end of the value starting at pos (no leading whitespace), or kBad.
std::size_t skipValue(std::string_view text, std::size_t pos, int depth) {
  if (pos >= text.size()) return kBad;
  switch (text[pos]) {
    case '{':
      return skipContainer(text, pos, depth, true);
    case '[':
      return skipContainer(text, pos, depth, false);
    case '"':
      return skipString(text, pos);
    case 't':
      return skipLiteral(text, pos, "true");
    case 'f':
      return skipLiteral(text, pos, "false");
    case 'n':
      return skipLiteral(text, pos, "null");
    default:
      return skipNumber(text, pos);
  }
}

JsonView::Type typeOf(char first) {
  switch (first) {
    case '{':
      return JsonView::Type::kObject;
    case '[':
      return JsonView::Type::kArray;
    case '"':
      return JsonView::Type::kString;
    case 't':
    case 'f':
      return JsonView::Type::kBool;
    case 'n':
      return JsonView::Type::kNull;
    default:
      return JsonView::Type::kNumber;
  }
}

void appendUtf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

// Four hex digits at pos, or -1.
int32_t hex4(std::string_view text, std::size_t pos) {
  if (pos + 4 > text.size()) return -1;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + 4, value, 16);
  return ec == std::errc() && end == text.data() + pos + 4 ? static_cast<int32_t>(value) : -1;
}

}  // namespace

std::optional<JsonView> JsonView::parse(std::string_view text) {
  const std::size_t start = skipSpace(text, 0);
  const std::size_t end = skipValue(text, start, 0);
  if (end == kBad || skipSpace(text, end) != text.size()) return std::nullopt;
  return JsonView(typeOf(text[start]), text.substr(start, end - start));
}

JsonView JsonView::get(std::string_view key) const {
  if (type_ != Type::kObject) return {};
  // raw_ was validated when parsed, so the walk below cannot fail.
  std::size_t pos = skipSpace(raw_, 1);
  while (pos < raw_.size() && raw_[pos] == '"') {
    const std::size_t key_end = skipString(raw_, pos);
    const JsonView name(Type::kString, raw_.substr(pos, key_end - pos));
    pos = skipSpace(raw_, skipSpace(raw_, key_end) + 1);
    const std::size_t value_end = skipValue(raw_, pos, 0);
    const bool match = name.raw_.size() == key.size() + 2 && name.raw_.find('\\') == kBad
                           ? name.raw_.substr(1, key.size()) == key
                           : name.string() == key;
    if (match) return JsonView(typeOf(raw_[pos]), raw_.substr(pos, value_end - pos));
    pos = skipSpace(raw_, value_end);
    if (pos >= raw_.size() || raw_[pos] != ',') break;
    pos = skipSpace(raw_, pos + 1);
  }
  return {};
}

JsonView JsonView::first() const {
  if (type_ != Type::kArray) return {};
  const std::size_t pos = skipSpace(raw_, 1);
  if (pos >= raw_.size() || raw_[pos] == ']') return {};
  const std::size_t end = skipValue(raw_, pos, 0);
  return JsonView(typeOf(raw_[pos]), raw_.substr(pos, end - pos));
}

JsonView JsonView::next(const JsonView& container) const {
  if (type_ == Type::kMissing || container.type_ != Type::kArray) return {};
  // This element lies inside the container's text: continue right after it.
  const std::size_t after =
      static_cast<std::size_t>(raw_.data() - container.raw_.data()) + raw_.size();
  std::size_t pos = skipSpace(container.raw_, after);
  if (pos >= container.raw_.size() || container.raw_[pos] != ',') return {};
  pos = skipSpace(container.raw_, pos + 1);
  const std::size_t end = skipValue(container.raw_, pos, 0);
  return JsonView(typeOf(container.raw_[pos]), container.raw_.substr(pos, end - pos));
}

std::string JsonView::string() const {
  if (type_ != Type::kString) return {};
  const std::string_view body = raw_.substr(1, raw_.size() - 2);
  std::string out;
  out.reserve(body.size());
  std::size_t pos = 0;
  while (pos < body.size()) {
    const void* found = std::memchr(body.data() + pos, '\\', body.size() - pos);
    const std::size_t slash =
        found == nullptr ? body.size() : static_cast<const char*>(found) - body.data();
    out.append(body.data() + pos, slash - pos);
    if (slash + 1 >= body.size()) break;
    const char escape = body[slash + 1];
    pos = slash + 2;
    switch (escape) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        int32_t code = hex4(body, pos);
        if (code < 0) {
          appendUtf8(out, 0xFFFD);
          break;
        }
        pos += 4;
        if (code >= 0xD800 && code <= 0xDBFF) {
          const int32_t low = body.substr(pos, 2) == "\\u" ? hex4(body, pos + 2) : -1;
          if (low >= 0xDC00 && low <= 0xDFFF) {
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            pos += 6;
          } else {
            code = 0xFFFD;
          }
        } else if (code >= 0xDC00 && code <= 0xDFFF) {
          code = 0xFFFD;
        }
        appendUtf8(out, static_cast<uint32_t>(code));
        break;
      }
      default:
        appendUtf8(out, 0xFFFD);
        break;
    }
  }
  return out;
}

double JsonView::number() const {
  if (type_ != Type::kNumber) return 0;
  const std::string text(raw_);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value) ? value : 0;
}

uint64_t JsonView::unsignedNumber() const {
  if (type_ != Type::kNumber) return 0;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(raw_.data(), raw_.data() + raw_.size(), value);
  if (ec == std::errc() && end == raw_.data() + raw_.size()) return value;
  const double approx = number();
  return approx > 0 && approx < 1.8e19 ? static_cast<uint64_t>(approx) : 0;
}

}  // namespace ccmesh::worker
