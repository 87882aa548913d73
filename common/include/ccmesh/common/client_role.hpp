#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccmesh {

// What a client may do: the role of its CURVE key (--clients-allow) or of its HTTP token
// (--http-token-file).
enum class ClientRole {
  kAdmin,  // everything: manage sessions (and pools), query, read
  kQuery,  // query, stream, cancel and read (info, list, count, status, ping)
};

std::string_view roleName(ClientRole role);
std::optional<ClientRole> parseRole(std::string_view name);

// Callers' names (in allow-lists and token files; logged, shown as a session's creator) are
// 1..64 of [A-Za-z0-9._:@-].
inline constexpr std::size_t kMaxCallerNameBytes = 64;
bool isCallerNameChar(char c);
bool isCallerName(std::string_view name);

// The words of one line of a file that lists callers (the CURVE allow-lists, the HTTP token
// file), up to a word that starts a comment ('#'). Z85 has '#' in its alphabet, but never as
// the first character of a 32-byte key (that digit would overflow the first 4-byte group),
// so a word starting with '#' is always a comment and a '#' inside a key is kept.
std::vector<std::string> callerListWords(const std::string& line);

}  // namespace ccmesh
