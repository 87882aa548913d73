#include "ccmesh/common/permission_rule.hpp"

#include <algorithm>

namespace ccmesh {
namespace {

constexpr std::string_view kAllow = "allow:";
constexpr std::string_view kDeny = "deny:";
// How much of an entry an error message quotes.
constexpr size_t kQuotedBytes = 200;

Error badEntry(std::string_view entry, std::string_view why) {
  std::string quoted(entry.substr(0, kQuotedBytes));
  if (entry.size() > kQuotedBytes) quoted += "...";
  return Error{ErrorCode::kBadRequest,
               "option permission_rules: '" + quoted + "': " + std::string(why)};
}

bool isToolNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// True if every ')' closes an earlier '(' and every '(' is closed.
bool balanced(std::string_view text) {
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) return false;
  }
  return depth == 0;
}

}  // namespace

Expected<PermissionRule, Error> parsePermissionRule(std::string_view entry) {
  PermissionRule rule;
  rule.text = entry;
  std::string_view pattern;
  if (entry.starts_with(kAllow)) {
    rule.allow = true;
    pattern = entry.substr(kAllow.size());
  } else if (entry.starts_with(kDeny)) {
    pattern = entry.substr(kDeny.size());
  } else {
    return badEntry(entry, "expected allow:PATTERN or deny:PATTERN");
  }
  if (entry.find('\0') != std::string_view::npos) return badEntry(entry, "contains a NUL byte");
  const size_t open = pattern.find('(');
  const std::string_view tool = pattern.substr(0, open);
  if (tool.empty()) return badEntry(entry, "empty tool name");
  if (tool.find(')') != std::string_view::npos) return badEntry(entry, "unbalanced parenthesis");
  if (!std::all_of(tool.begin(), tool.end(), isToolNameChar)) {
    return badEntry(entry, "tool name may hold only letters, digits, '_' and '-'");
  }
  rule.tool = tool;
  if (open == std::string_view::npos) return rule;
  if (!pattern.ends_with(')')) {
    const bool closed = pattern.find(')', open) != std::string_view::npos;
    return badEntry(entry,
                    closed ? "text after the closing parenthesis" : "unbalanced parenthesis");
  }
  const std::string_view specifier = pattern.substr(open + 1, pattern.size() - open - 2);
  if (!balanced(specifier)) return badEntry(entry, "unbalanced parenthesis");
  if (specifier.find_first_not_of(" \t") == std::string_view::npos) {
    return badEntry(entry, "empty specifier (write the tool name alone to match every use)");
  }
  rule.specifier = std::string(specifier);
  return rule;
}

}  // namespace ccmesh
