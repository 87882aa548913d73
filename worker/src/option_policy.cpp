#include "ccmesh/worker/option_policy.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace ccmesh::worker {
namespace {

namespace fs = std::filesystem;

// A path with symbolic links resolved as far as it exists, and `.`/`..` removed.
fs::path resolved(const std::string& path) {
  std::error_code error;
  auto canonical = fs::weakly_canonical(fs::path(path), error);
  return error ? fs::path(path).lexically_normal() : canonical;
}

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  if (items.empty()) return "none";
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

Error refuse(std::string_view option, const std::string& why) {
  return Error{ErrorCode::kUnauthorized, "option " + std::string(option) + ": " + why};
}

}  // namespace

const std::vector<std::string>& OptionPolicy::wideningPermissionModes() {
  static const std::vector<std::string> modes{"acceptEdits", "bypassPermissions", "auto"};
  return modes;
}

const std::vector<std::string>& OptionPolicy::protectedEnvironment() {
  static const std::vector<std::string> names{
      "ANTHROPIC_*", "CLAUDE_*", "AWS_*",         "HOME",        "PATH",       "SHELL",
      "BASH_ENV",    "ENV",      "LD_*",          "NODE_*",      "HTTP_PROXY", "HTTPS_PROXY",
      "ALL_PROXY",   "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"};
  return names;
}

std::vector<std::string> OptionPolicy::defaultRoots() {
  std::vector<std::string> roots;
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    roots.emplace_back(home);
  }
  std::error_code error;
  auto temp = fs::temp_directory_path(error);
  roots.push_back(error ? std::string("/tmp") : temp.string());
  return roots;
}

const std::vector<std::string>& OptionPolicy::programSettings() {
  static const std::vector<std::string> keys{"hooks",
                                             "apiKeyHelper",
                                             "awsAuthRefresh",
                                             "awsCredentialExport",
                                             "otelHeadersHelper",
                                             "statusLine",
                                             "env",
                                             "permissions",
                                             "mcpServers",
                                             "enableAllProjectMcpServers",
                                             "enabledMcpjsonServers",
                                             "sandbox"};
  return keys;
}

std::string OptionPolicy::mcpCommands(const std::string& mcp_config) {
  if (mcp_config.empty()) return {};
  if (mcp_config.front() == '/') return "a file on this worker may define any server";
  const auto config = nlohmann::json::parse(mcp_config, nullptr, false);
  const auto servers = config.is_object() ? config.value("mcpServers", nlohmann::json::object())
                                          : nlohmann::json::object();
  if (!servers.is_object()) return "mcpServers is not an object";
  for (const auto& [name, server] : servers.items()) {
    // A server with a command is a program started here (type stdio, or no type).
    const auto type = server.is_object() ? server.find("type") : server.end();
    const bool remote = type != server.end() && type->is_string() && *type != "stdio";
    if (!server.is_object() || server.contains("command") || !remote) {
      return "server " + name + " is a command run on this worker";
    }
  }
  return {};
}

std::string OptionPolicy::agentsWidening(const std::string& agents) const {
  if (agents.empty()) return {};
  const auto parsed = nlohmann::json::parse(agents, nullptr, false);
  if (!parsed.is_object()) return "not a JSON object";
  for (const auto& [name, agent] : parsed.items()) {
    if (!agent.is_object()) continue;
    const auto mode = agent.find("permissionMode");
    if (mode != agent.end()) {
      const std::string value = mode->is_string() ? mode->get<std::string>() : "?";
      if (!isKnownPermissionMode(value)) return "agent " + name + " has an unknown permissionMode";
      if (matches(wideningPermissionModes(), value) && !matches(permission_modes_, value)) {
        return "agent " + name + " runs in " + value +
               ", which this worker's --allow-permission-modes does not list";
      }
    }
    if (!programs_ && (agent.contains("hooks") || agent.contains("mcpServers"))) {
      return "agent " + name +
             " starts programs (hooks or mcpServers), and this worker runs without "
             "--allow-mcp-commands";
    }
  }
  return {};
}

std::string OptionPolicy::programsIn(const std::string& settings) {
  if (settings.empty()) return {};
  if (settings.front() == '/') return "a file on this worker may hold any setting";
  const auto parsed = nlohmann::json::parse(settings, nullptr, false);
  if (!parsed.is_object()) return "not a JSON object";
  for (const auto& key : programSettings()) {
    if (parsed.contains(key)) return "it sets " + key;
  }
  return {};
}

OptionPolicy::OptionPolicy(std::vector<std::string> permission_modes,
                           std::vector<std::string> roots, std::vector<std::string> environment,
                           bool programs)
    : permission_modes_(std::move(permission_modes)),
      environment_(std::move(environment)),
      programs_(programs) {
  for (const auto& root : roots) roots_.push_back(resolved(root).string());
}

std::optional<Error> OptionPolicy::check(const SessionOptions& options) const {
  const auto& mode = options.permission_mode;
  if (matches(wideningPermissionModes(), mode) && !matches(permission_modes_, mode)) {
    return refuse("permission_mode", mode +
                                         " is not allowed on this worker (its "
                                         "--allow-permission-modes: " +
                                         joined(permission_modes_) + ")");
  }
  if (!options.cwd.empty() && !underRoot(options.cwd)) {
    return refuse(
        "cwd", options.cwd + " is outside this worker's --allowed-roots (" + joined(roots_) + ")");
  }
  for (const auto& dir : options.add_dir) {
    if (!underRoot(dir)) {
      return refuse("add_dir",
                    dir + " is outside this worker's --allowed-roots (" + joined(roots_) + ")");
    }
  }
  for (const auto& [name, value] : options.env) {
    if (matches(protectedEnvironment(), name) && !matches(environment_, name)) {
      return refuse("env", name +
                               " steers the CLI (API, config, loader or proxy settings) and "
                               "this worker's --allow-session-env does not list it");
    }
  }
  if (auto why = agentsWidening(options.agents); !why.empty()) return refuse("agents", why);
  if (programs_) return std::nullopt;
  if (auto why = mcpCommands(options.mcp_config); !why.empty()) {
    return refuse("mcp_config", why + ", and this worker runs without --allow-mcp-commands");
  }
  if (auto why = programsIn(options.settings); !why.empty()) {
    return refuse("settings", why + ", and this worker runs without --allow-mcp-commands");
  }
  return std::nullopt;
}

bool OptionPolicy::underRoot(const std::string& path) const {
  const fs::path target = resolved(path);
  return std::any_of(roots_.begin(), roots_.end(), [&](const std::string& root) {
    const fs::path base(root);
    const auto root_end =
        std::mismatch(base.begin(), base.end(), target.begin(), target.end()).first;
    // Every component of the root matches (a trailing "" from "/a/" counts as matched).
    return root_end == base.end() || (std::next(root_end) == base.end() && root_end->empty());
  });
}

bool OptionPolicy::matches(const std::vector<std::string>& patterns, std::string_view name) {
  if (name.empty()) return false;
  // Proxy variables are read in either case.
  const std::string folded = upper(name);
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    if (!pattern.empty() && pattern.back() == '*') {
      return std::string_view(name).substr(0, pattern.size() - 1) ==
             std::string_view(pattern).substr(0, pattern.size() - 1);
    }
    return pattern == name || (pattern.find("PROXY") != std::string::npos && pattern == folded);
  });
}

}  // namespace ccmesh::worker
