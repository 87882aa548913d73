#include "ccmesh/common/client_role.hpp"

#include <algorithm>
#include <sstream>

namespace ccmesh {

std::string_view roleName(ClientRole role) {
  return role == ClientRole::kAdmin ? "admin" : "query";
}

std::optional<ClientRole> parseRole(std::string_view name) {
  if (name == "admin") return ClientRole::kAdmin;
  if (name == "query") return ClientRole::kQuery;
  return std::nullopt;
}

bool isCallerNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '@' || c == '-';
}

bool isCallerName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxCallerNameBytes &&
         std::all_of(name.begin(), name.end(), isCallerNameChar);
}

std::vector<std::string> callerListWords(const std::string& line) {
  std::istringstream stream(line);
  std::vector<std::string> words;
  std::string word;
  while (stream >> word) {
    if (word.front() == '#') break;
    words.push_back(std::move(word));
  }
  return words;
}

}  // namespace ccmesh
