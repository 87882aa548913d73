#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/expected.hpp"

namespace ccmesh {

// One entry of a session's `permission_rules`: `allow:PATTERN` or `deny:PATTERN`, PATTERN in
// Claude Code's permission-rule syntax, `Tool` or `Tool(SPECIFIER)` (`Bash(git status:*)`,
// `Read`, `Edit(/srv/app/**)`, `WebFetch(domain:example.com)`, `mcp__server__tool`). This is
// the syntax only; what a rule matches is the worker's PermissionPolicy.
struct PermissionRule {
  bool allow = false;                    // allow: (true) or deny: (false)
  std::string tool;                      // tool name, e.g. Bash, Read, mcp__srv__tool
  std::optional<std::string> specifier;  // what is in the parentheses, if any
  std::string text;                      // the entry as written, for logs and decisions

  bool operator==(const PermissionRule&) const = default;
};

// Parses one entry. The bad_request error names the entry and what is wrong with it: no
// allow:/deny: prefix, an empty tool name or one with characters other than [A-Za-z0-9_-],
// an unbalanced parenthesis, an empty specifier, a NUL byte.
Expected<PermissionRule, Error> parsePermissionRule(std::string_view entry);

}  // namespace ccmesh
