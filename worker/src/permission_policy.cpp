#include "ccmesh/worker/permission_policy.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

namespace ccmesh::worker {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kMcpPrefix = "mcp__";
constexpr std::string_view kBlank = " \t\r\n";
// What makes a command more than one simple command: an allow rule refuses all of them.
constexpr std::string_view kShellControl = ";&|`><\n";
// Where a command splits into segments that a deny rule tests one by one.
constexpr std::string_view kSegmentBreaks = ";&|\n()`";
constexpr std::array<std::string_view, 8> kFileTools{"Read",         "Write", "Edit", "MultiEdit",
                                                     "NotebookEdit", "Glob",  "Grep", "LS"};
constexpr std::array<std::string_view, 3> kPathFields{"file_path", "notebook_path", "path"};
constexpr std::string_view kDomainPrefix = "domain:";

std::string_view trimmed(std::string_view text) {
  const size_t first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kBlank) - first + 1);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

// The string value of `input[key]`, if `input` is an object holding a string there.
std::optional<std::string_view> stringField(const Json& input, std::string_view key) {
  if (!input.is_object()) return std::nullopt;
  auto it = input.find(key);
  if (it == input.end() || !it->is_string()) return std::nullopt;
  return std::string_view(it->get_ref<const std::string&>());
}

bool namesTool(const PermissionRule& rule, std::string_view tool_name) {
  if (tool_name == rule.tool) return true;
  // mcp__SERVER, without a tool part, stands for every tool of that server.
  if (!rule.tool.starts_with(kMcpPrefix)) return false;
  if (rule.tool.find("__", kMcpPrefix.size()) != std::string::npos) return false;
  return tool_name.size() > rule.tool.size() + 2 && tool_name.starts_with(rule.tool) &&
         tool_name.substr(rule.tool.size(), 2) == "__";
}

// ---- Bash ----

bool commandMatches(std::string_view spec, std::string_view command) {
  if (!spec.ends_with(":*")) return command == spec;
  const std::string_view prefix = spec.substr(0, spec.size() - 2);
  if (!command.starts_with(prefix)) return false;
  return command.size() == prefix.size() || command[prefix.size()] == ' ' ||
         command[prefix.size()] == '\t';
}

bool bashMatches(const PermissionRule& rule, const Json& input) {
  const auto field = stringField(input, "command");
  if (!field) return false;
  const std::string_view command = trimmed(*field);
  const std::string_view spec = *rule.specifier;
  if (rule.allow) {
    if (command.find_first_of(kShellControl) != std::string_view::npos) return false;
    if (command.find("$(") != std::string_view::npos) return false;
    return commandMatches(spec, command);
  }
  if (commandMatches(spec, command)) return true;
  size_t start = 0;
  while (start <= command.size()) {
    size_t end = command.find_first_of(kSegmentBreaks, start);
    if (end == std::string_view::npos) end = command.size();
    const std::string_view segment = trimmed(command.substr(start, end - start));
    if (!segment.empty() && commandMatches(spec, segment)) return true;
    start = end + 1;
  }
  return false;
}

// ---- file tools ----

// One element of a path glob.
struct GlobToken {
  enum class Kind {
    kLiteral,       // the character itself
    kQuestion,      // ?: one character but '/'
    kStar,          // *: any characters but '/'
    kDoubleStar,    // **: any characters
    kAnyDirectory,  // **/: nothing, or any characters ending in '/'
  };
  Kind kind = Kind::kLiteral;
  char literal = 0;
};

std::vector<GlobToken> globTokens(std::string_view glob) {
  using Kind = GlobToken::Kind;
  std::vector<GlobToken> tokens;
  for (size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '?') {
      tokens.push_back({Kind::kQuestion, 0});
    } else if (c != '*') {
      tokens.push_back({Kind::kLiteral, c});
    } else if (i + 1 < glob.size() && glob[i + 1] == '*') {
      const bool slash = i + 2 < glob.size() && glob[i + 2] == '/';
      tokens.push_back({slash ? Kind::kAnyDirectory : Kind::kDoubleStar, 0});
      i += slash ? 2 : 1;
    } else {
      tokens.push_back({Kind::kStar, 0});
    }
  }
  return tokens;
}

// Matches the whole `path` against `glob`, in time proportional to their lengths' product
// and memory proportional to the glob's: no backtracking a hostile path could blow up.
bool globMatches(std::string_view glob, std::string_view path) {
  using Kind = GlobToken::Kind;
  const std::vector<GlobToken> tokens = globTokens(glob);
  const size_t n = tokens.size();
  // row[j]: tokens [0, j) match the path consumed so far; seen[j]: row[j] held at some
  // earlier length too (what `**/` needs before a '/').
  std::vector<char> row(n + 1, 0);
  std::vector<char> next(n + 1, 0);
  row[0] = 1;
  for (size_t j = 0; j < n; ++j) {
    row[j + 1] = row[j] && tokens[j].kind != Kind::kLiteral && tokens[j].kind != Kind::kQuestion;
  }
  std::vector<char> seen = row;
  for (const char c : path) {
    next[0] = 0;
    for (size_t j = 0; j < n; ++j) {
      const GlobToken& token = tokens[j];
      switch (token.kind) {
        case Kind::kLiteral:
          next[j + 1] = row[j] && c == token.literal;
          break;
        case Kind::kQuestion:
          next[j + 1] = row[j] && c != '/';
          break;
        case Kind::kStar:
          next[j + 1] = next[j] || (row[j + 1] && c != '/');
          break;
        case Kind::kDoubleStar:
          next[j + 1] = next[j] || row[j + 1];
          break;
        case Kind::kAnyDirectory:
          next[j + 1] = next[j] || (c == '/' && seen[j]);
          break;
      }
    }
    row.swap(next);
    for (size_t j = 0; j <= n; ++j) seen[j] = seen[j] || row[j];
  }
  return row[n] != 0;
}

bool hasParentComponent(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (path.substr(start, slash - start) == "..") return true;
    start = slash + 1;
  }
  return false;
}

bool fileMatches(const PermissionRule& rule, const Json& input) {
  // The first of the path fields present decides, even when it is not a string.
  std::optional<std::string_view> path;
  for (std::string_view key : kPathFields) {
    if (input.is_object() && input.contains(key)) {
      path = stringField(input, key);
      break;
    }
  }
  if (!path) return false;
  if (rule.allow && hasParentComponent(*path)) return false;
  // `/a/./b` and `/a//b` name /a/b: an allow rule takes only the plain spelling, a deny rule
  // catches every spelling.
  const std::string plain = std::filesystem::path(*path).lexically_normal().string();
  if (rule.allow) return plain == *path && globMatches(*rule.specifier, *path);
  return globMatches(*rule.specifier, *path) || globMatches(*rule.specifier, plain);
}

// ---- WebFetch ----

bool plainHost(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return std::all_of(host.begin() + 1, host.end() - 1, [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.';
    });
  }
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

// The host of an absolute URL, lower-cased, without userinfo, port or a trailing dot;
// nothing if it has no `scheme://` or the host has characters a host name cannot have.
std::optional<std::string> urlHost(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::nullopt;
  std::string_view authority = url.substr(scheme_end + 3);
  // A backslash ends the authority too, as browsers read http(s) URLs.
  authority = authority.substr(0, authority.find_first_of("/?#\\"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  if (host.starts_with('[')) {
    host = host.substr(0, host.find(']') + 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  std::string result = lower(host);
  if (result.ends_with('.')) result.pop_back();
  if (!plainHost(result)) return std::nullopt;
  return result;
}

bool webFetchMatches(const PermissionRule& rule, const Json& input) {
  const auto url = stringField(input, "url");
  if (!url) return false;
  std::string domain = lower(rule.specifier->substr(kDomainPrefix.size()));
  if (domain.ends_with('.')) domain.pop_back();
  const auto host = urlHost(*url);
  if (!host) return !rule.allow;
  return *host == domain || (host->size() > domain.size() && host->ends_with(domain) &&
                             (*host)[host->size() - domain.size() - 1] == '.');
}

bool matches(const PermissionRule& rule, std::string_view tool_name, const Json& input) {
  if (!namesTool(rule, tool_name)) return false;
  if (!rule.specifier) return true;
  if (tool_name == "Bash") return bashMatches(rule, input);
  if (std::find(kFileTools.begin(), kFileTools.end(), tool_name) != kFileTools.end()) {
    return fileMatches(rule, input);
  }
  if (tool_name == "WebFetch" && rule.specifier->starts_with(kDomainPrefix) &&
      rule.specifier->size() > kDomainPrefix.size()) {
    return webFetchMatches(rule, input);
  }
  // A specifier this policy cannot read: allow nothing by it, deny everything by it.
  return !rule.allow;
}

}  // namespace

PermissionPolicy::PermissionPolicy(std::vector<PermissionRule> rules) : rules_(std::move(rules)) {}

Expected<PermissionPolicy, Error> PermissionPolicy::parse(const std::vector<std::string>& entries) {
  std::vector<PermissionRule> rules;
  rules.reserve(entries.size());
  for (const auto& entry : entries) {
    auto rule = parsePermissionRule(entry);
    if (!rule) return rule.error();
    rules.push_back(std::move(*rule));
  }
  return PermissionPolicy(std::move(rules));
}

PolicyDecision PermissionPolicy::decide(std::string_view tool_name, const Json& input) const {
  const PermissionRule* allowed_by = nullptr;
  for (const auto& rule : rules_) {
    if (!matches(rule, tool_name, input)) continue;
    if (!rule.allow) return PolicyDecision{false, rule.text};
    if (allowed_by == nullptr) allowed_by = &rule;
  }
  if (allowed_by != nullptr) return PolicyDecision{true, allowed_by->text};
  return PolicyDecision{};
}

}  // namespace ccmesh::worker
