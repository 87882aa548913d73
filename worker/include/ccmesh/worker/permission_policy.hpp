#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/expected.hpp"
#include "ccmesh/common/permission_rule.hpp"

namespace ccmesh::worker {

// What a PermissionPolicy said about one tool use.
struct PolicyDecision {
  bool allow = false;  // the CLI may run the tool
  std::string rule;    // text of the entry that decided; empty when none matched (a deny)

  bool operator==(const PolicyDecision&) const = default;
};

// Answers the CLI's can_use_tool requests from a session's `permission_rules`.
//
// Precedence: a matching deny rule wins over any matching allow rule; the first matching
// rule of the winning kind is the one reported; no matching rule is a deny. Tool names
// compare exactly (case-sensitive). Matching is textual: it reads the tool input the CLI
// sends and does not resolve symbolic links, aliases or what a command runs, so rules are
// a guard rail for a cooperating agent, not a sandbox.
//
// - `Tool`: every use of that tool. `mcp__SERVER` (no further `__`) also matches every tool
//   of that server, `mcp__SERVER__*`.
// - `Bash(SPEC)` reads input.command (a string), surrounding whitespace trimmed.
//   `Bash(PREFIX:*)` matches a command that equals PREFIX or starts with PREFIX followed by
//   a space or tab; any other SPEC must equal the command. An allow rule matches only a
//   simple command: none of ; & | ` $( > < or a newline anywhere in it (quoted or not). A
//   deny rule matches if the whole command or any segment of it does, segments being split
//   on ; & | newline ( ) and ` and trimmed: deny:Bash(rm:*) catches `ls && rm -rf x` and
//   `echo $(rm x)`.
// - File tools (Read, Write, Edit, MultiEdit, NotebookEdit, Glob, Grep, LS) match the path
//   in input.file_path, else input.notebook_path, else input.path, as the CLI sends it (an
//   absolute path). SPEC is a glob over the whole path: `**` matches any characters
//   including `/`, and `**/` also matches nothing (so /srv/**/*.ts matches /srv/a.ts); `*`
//   matches any characters but `/`; `?` one character but `/`; everything else itself. An
//   allow rule never matches a path with a `..` component.
// - `WebFetch(domain:HOST)` matches when the host of input.url equals HOST or is a
//   subdomain of it (case-insensitive; userinfo, port and a trailing dot ignored). A host
//   with characters other than letters, digits, `.` and `-` (or a bracketed IPv6 address),
//   or a url without one, is never allowed by such a rule and always denied by one.
// - When the input lacks the field a specifier reads (no command, path or url), the rule
//   does not match.
// - Any other specifier (another tool's, a WebFetch one without `domain:`): an allow rule
//   never matches and a deny rule matches every use of the tool, since the policy cannot
//   tell which uses the rule meant.
class PermissionPolicy {
 public:
  explicit PermissionPolicy(std::vector<PermissionRule> rules);

  // Parses `permission_rules` entries; the error names the first bad one.
  static Expected<PermissionPolicy, Error> parse(const std::vector<std::string>& entries);

  // Whether the CLI may use `tool_name` with `input` (the can_use_tool request's input).
  PolicyDecision decide(std::string_view tool_name, const nlohmann::json& input) const;

  const std::vector<PermissionRule>& rules() const { return rules_; }

 private:
  std::vector<PermissionRule> rules_;  // in the order given
};

}  // namespace ccmesh::worker
