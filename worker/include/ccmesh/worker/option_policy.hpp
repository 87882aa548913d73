#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/session_options.hpp"

namespace ccmesh::worker {

// What this worker lets a session's options widen: which permission modes that loosen the
// CLI's checks it accepts, under which directories a session may work (cwd, add_dir), and
// which of the environment variables that steer the CLI (API endpoint and credentials, its
// config dir, HOME, PATH, loaders, proxies) a session may override. Everything else is
// refused with `unauthorized` and a message naming the option and the worker flag that
// would allow it. The broker already lets only admin clients start sessions; this is the
// worker's own say, since it is the worker's machine the agent runs on.
class OptionPolicy {
 public:
  // Permission modes that widen what the agent may do without asking.
  static const std::vector<std::string>& wideningPermissionModes();
  // Environment variables (NAME, or PREFIX*) a session may not set unless allowed.
  static const std::vector<std::string>& protectedEnvironment();
  // Where sessions may work when --allowed-roots is not given: $HOME and the temp directory.
  static std::vector<std::string> defaultRoots();

  // Allows everything but the widening modes, work outside the default roots, and the
  // protected environment.
  OptionPolicy() : OptionPolicy({}, defaultRoots(), {}) {}
  // `permission_modes`: widening modes accepted; `roots`: absolute directories sessions may
  // work under ("/" for anywhere); `environment`: protected names (or PREFIX*) accepted.
  // `programs`: sessions may configure what starts programs on this machine (stdio MCP
  // servers, and settings with hooks, credential helpers, env or permissions: see
  // programSettings()).
  OptionPolicy(std::vector<std::string> permission_modes, std::vector<std::string> roots,
               std::vector<std::string> environment, bool programs = false);
  // Keys of `settings` refused unless the worker allows programs: they run commands
  // (hooks, apiKeyHelper, ...) or widen what the agent may do (env, permissions).
  static const std::vector<std::string>& programSettings();

  // Nothing if this worker accepts the options, else `unauthorized` naming the option.
  std::optional<Error> check(const SessionOptions& options) const;

  const std::vector<std::string>& roots() const { return roots_; }

 private:
  // True if `path` (absolute) is a root or lies under one, symbolic links resolved.
  bool underRoot(const std::string& path) const;
  // Why mcp_config or settings would start programs (empty: they would not).
  static std::string mcpCommands(const std::string& mcp_config);
  static std::string programsIn(const std::string& settings);
  // Why an agent of `agents` would widen what the session may do (empty: none would): a
  // permissionMode this worker does not allow, hooks or MCP servers without programs.
  std::string agentsWidening(const std::string& agents) const;
  // True if `name` matches an entry of `patterns` (NAME, or PREFIX*).
  static bool matches(const std::vector<std::string>& patterns, std::string_view name);

  std::vector<std::string> permission_modes_;  // widening modes allowed (--allow-permission-modes)
  std::vector<std::string> roots_;             // canonical allowed roots (--allowed-roots)
  std::vector<std::string> environment_;       // protected names allowed (--allow-session-env)
  bool programs_ = false;                      // --allow-mcp-commands
};

}  // namespace ccmesh::worker
