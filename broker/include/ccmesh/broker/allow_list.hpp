#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ccmesh/common/client_role.hpp"

namespace ccmesh::broker {

// Client keys carry a ClientRole; workers' keys have none: they may only be workers.

// The name the broker's own HTTP API acts under (AccessControl's localCaller): no client
// key may carry it.
inline constexpr std::string_view kLocalCallerName = "http";

// One public key an allow-list admits.
struct AllowedKey {
  std::string name;                      // who it is: logged, shown as a session's creator
  ClientRole role = ClientRole::kAdmin;  // clients' lists only
};

// The public keys allowed on one of the broker's ports, read from a text file, one key a
// line:
//
//   # comment
//   <Z85 public key> <admin|query> [name]     (clients' list)
//   <Z85 public key> [name]                   (workers' list)
//
// Anything after a word starting with '#' is a comment. A missing name becomes "key-" and
// the key's first 8 characters ('_' for those names may not hold). Names are 1..64 of
// [A-Za-z0-9._:@-].
class AllowList {
 public:
  // Which port's list: clients' lines carry a role, workers' lines do not.
  enum class Kind { kClients, kWorkers };

  AllowList() = default;

  // Reads a list file. Throws ConfigError naming the file and line at fault.
  static AllowList load(const std::string& path, Kind kind);

  // Parses a list's text; `origin` names it in errors. Throws ConfigError.
  static AllowList parse(std::string_view text, Kind kind, const std::string& origin);

  // The entry of a Z85 public key, or null if the key is not listed.
  const AllowedKey* find(const std::string& key) const;

  std::size_t size() const { return keys_.size(); }

 private:
  std::unordered_map<std::string, AllowedKey> keys_;  // Z85 public key -> entry
};

}  // namespace ccmesh::broker
