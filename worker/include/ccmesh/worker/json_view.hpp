#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ccmesh::worker {

// A JSON value located inside a larger text and decoded only on demand. Parsing checks the
// structure of the whole text but copies nothing; strings are found with memchr, so a
// 50 MB answer line costs a few scans of memory instead of a full DOM build. Used for the
// CLI's long lines, where building a DOM would stall the event loop for seconds.
class JsonView {
 public:
  enum class Type { kMissing, kNull, kBool, kNumber, kString, kArray, kObject };

  // The value spanning all of `text` (surrounding whitespace allowed), or nullopt if the
  // text is not well-formed JSON. `text` must outlive the view and everything taken from it.
  static std::optional<JsonView> parse(std::string_view text);

  Type type() const { return type_; }
  bool isString() const { return type_ == Type::kString; }
  bool isObject() const { return type_ == Type::kObject; }
  bool isArray() const { return type_ == Type::kArray; }
  bool isNumber() const { return type_ == Type::kNumber; }
  // Present and not null.
  bool present() const { return type_ != Type::kMissing && type_ != Type::kNull; }

  // The member `key` of an object; kMissing if absent or this is not an object.
  JsonView get(std::string_view key) const;
  // The first element of an array (kMissing if empty or not an array), and the element
  // after this one in `container` (kMissing after the last): walks an array in one pass.
  JsonView first() const;
  JsonView next(const JsonView& container) const;

  // Decoded string value ("" if not a string). Invalid escapes become U+FFFD.
  std::string string() const;
  bool isTrue() const { return type_ == Type::kBool && raw_ == "true"; }
  double number() const;
  uint64_t unsignedNumber() const;  // 0 for negatives and non-numbers
  // The value's text as written.
  std::string_view raw() const { return raw_; }

 private:
  JsonView(Type type, std::string_view raw) : type_(type), raw_(raw) {}
  JsonView() = default;

  Type type_ = Type::kMissing;  // what kind of value this is
  std::string_view raw_;        // its text, quotes and brackets included
};

}  // namespace ccmesh::worker
