#include "ccmesh/monitoring/http_tokens.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "ccmesh/common/config_loader.hpp"

namespace ccmesh::monitoring {
namespace {

constexpr std::string_view kBearer = "Bearer ";

bool printable(char c) { return c > ' ' && c < 0x7f; }

}  // namespace

HttpTokens HttpTokens::load(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw ConfigError("--http-token-file " + path + ": cannot be read");
  std::ostringstream text;
  text << file.rdbuf();
  return parse(text.str(), path);
}

HttpTokens HttpTokens::parse(std::string_view text, const std::string& origin) {
  HttpTokens tokens;
  std::istringstream lines{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    auto words = callerListWords(line);
    if (words.empty()) continue;
    auto fail = [&](const std::string& why) {
      throw ConfigError("--http-token-file " + origin + " line " + std::to_string(number) + ": " +
                        why + "; expected `<token> <admin|query> [name]`");
    };
    const std::string& token = words[0];
    if (token.size() < kMinTokenBytes || token.size() > kMaxTokenBytes ||
        !std::all_of(token.begin(), token.end(), printable)) {
      fail("a token is " + std::to_string(kMinTokenBytes) + ".." + std::to_string(kMaxTokenBytes) +
           " printable characters");
    }
    if (words.size() > 3) fail("too many words");
    HttpCaller caller;
    caller.name = "token-" + std::to_string(number);
    if (words.size() >= 2) {
      const auto role = parseRole(words[1]);
      if (!role) fail("unknown role '" + words[1] + "' (admin or query)");
      caller.role = *role;
    }
    if (words.size() == 3) caller.name = words[2];
    if (!isCallerName(caller.name)) {
      fail("name '" + caller.name + "' must be 1..64 of [A-Za-z0-9._:@-]");
    }
    if (!tokens.tokens_.emplace(token, std::move(caller)).second) fail("token listed twice");
  }
  if (tokens.tokens_.empty()) throw ConfigError("--http-token-file " + origin + " holds no token");
  return tokens;
}

const HttpCaller* HttpTokens::find(std::string_view authorization) const {
  if (authorization.substr(0, kBearer.size()) != kBearer) return nullptr;
  const auto it = tokens_.find(std::string(authorization.substr(kBearer.size())));
  return it == tokens_.end() ? nullptr : &it->second;
}

}  // namespace ccmesh::monitoring
