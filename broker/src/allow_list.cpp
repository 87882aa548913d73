#include "ccmesh/broker/allow_list.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/curve_keys.hpp"

namespace ccmesh::broker {
namespace {

// The name of an unnamed key: "key-" and its first 8 characters, made name-safe.
std::string defaultName(const std::string& key) {
  std::string name = "key-" + key.substr(0, 8);
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !isCallerNameChar(c); }, '_');
  return name;
}

}  // namespace

AllowList AllowList::load(const std::string& path, Kind kind) {
  std::ifstream file(path);
  if (!file) throw ConfigError("cannot read allow-list " + path);
  std::ostringstream text;
  text << file.rdbuf();
  return parse(text.str(), kind, path);
}

AllowList AllowList::parse(std::string_view text, Kind kind, const std::string& origin) {
  AllowList list;
  std::istringstream lines{std::string(text)};
  std::string line;
  int number = 0;
  const char* format = kind == Kind::kClients ? "expected `<Z85 public key> <admin|query> [name]`"
                                              : "expected `<Z85 public key> [name]`";
  while (std::getline(lines, line)) {
    ++number;
    auto words = callerListWords(line);
    if (words.empty()) continue;
    auto fail = [&](const std::string& why) {
      throw ConfigError("allow-list " + origin + " line " + std::to_string(number) + ": " + why);
    };
    if (!isCurveKey(words[0])) fail(std::string("not a 40-character Z85 public key; ") + format);
    AllowedKey entry;
    std::size_t next = 1;
    if (kind == Kind::kClients) {
      if (words.size() < 2) fail(std::string("missing role; ") + format);
      auto role = parseRole(words[1]);
      if (!role) fail("unknown role '" + words[1] + "' (admin or query)");
      entry.role = *role;
      next = 2;
    }
    if (words.size() > next + 1) fail(std::string("too many words; ") + format);
    entry.name = words.size() > next ? words[next] : defaultName(words[0]);
    if (kind == Kind::kClients && entry.name == kLocalCallerName) {
      fail("the name '" + entry.name + "' is the broker's own HTTP API's; choose another");
    }
    if (!isCallerName(entry.name)) {
      fail("name '" + entry.name + "' must be 1..64 of [A-Za-z0-9._:@-]");
    }
    if (!list.keys_.emplace(words[0], std::move(entry)).second) fail("key listed twice");
  }
  return list;
}

const AllowedKey* AllowList::find(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? nullptr : &it->second;
}

}  // namespace ccmesh::broker
