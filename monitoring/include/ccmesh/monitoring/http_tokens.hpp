#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ccmesh/common/client_role.hpp"

namespace ccmesh::monitoring {

// Who sent an HTTP request: its token's role and name ("local" admin on an endpoint without
// tokens).
struct HttpCaller {
  ClientRole role = ClientRole::kAdmin;
  std::string name = "local";
};

// The bearer tokens an HTTP endpoint accepts (--http-token-file), one a line:
//
//   # comment
//   <token> <admin|query> [name]
//   <token>                          (admin)
//
// Anything after a word starting with '#' is a comment. Tokens are 8..256 printable
// characters without white space; a missing name becomes "token-LINE". Names are 1..64 of
// [A-Za-z0-9._:@-].
class HttpTokens {
 public:
  HttpTokens() = default;

  // Reads a token file. Throws ConfigError naming the file and line at fault.
  static HttpTokens load(const std::string& path);
  // Parses a token file's text; `origin` names it in errors. Throws ConfigError.
  static HttpTokens parse(std::string_view text, const std::string& origin);

  bool empty() const { return tokens_.empty(); }
  std::size_t size() const { return tokens_.size(); }

  // The caller whose `Authorization` header value this is ("Bearer <token>"), or null.
  const HttpCaller* find(std::string_view authorization) const;

  static constexpr std::size_t kMinTokenBytes = 8;
  static constexpr std::size_t kMaxTokenBytes = 256;

 private:
  std::unordered_map<std::string, HttpCaller> tokens_;  // token -> who holds it
};

}  // namespace ccmesh::monitoring
