#pragma once

#include <cstdint>
#include <map>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/expected.hpp"

namespace ccmesh {

// What a session is started with: everything that shapes its CLI process and its
// supervision. Travels as the msgpack map `options`/`config`, is read from the sessions file
// and from `ccmesh start` flags. Empty strings and zeros mean "the CLI's (or worker's)
// default".
struct SessionOptions {
  // Values of `start`.
  static constexpr std::string_view kStartEager = "eager";
  static constexpr std::string_view kStartOnDemand = "on_demand";
  // Values of `permission_handler`.
  static constexpr std::string_view kHandlerDeny = "deny";
  static constexpr std::string_view kHandlerClient = "client";
  static constexpr std::string_view kHandlerPolicy = "policy";
  // permission_timeout_ms when unset.
  static constexpr uint64_t kDefaultPermissionTimeoutMs = 60000;

  std::string system_prompt;                  // --system-prompt
  std::string append_system_prompt;           // --append-system-prompt
  std::string model;                          // --model
  uint32_t max_turns = 0;                     // --max-turns (0: unset)
  std::vector<std::string> allowed_tools;     // --allowedTools a,b
  std::vector<std::string> disallowed_tools;  // --disallowedTools a,b
  std::vector<std::string> add_dir;           // --add-dir D, once per entry
  std::string permission_mode;                // --permission-mode
  std::string cwd;                            // working directory of the CLI (absolute)
  std::map<std::string, std::string> env;     // extra environment of the CLI
  uint64_t query_timeout_ms = 0;              // default per-query deadline (0: worker default)
  std::string resume;                         // session_id to resume at first start
  uint32_t max_restarts = 5;                  // restart intensity: more than this ...
  uint64_t restart_window_ms = 60000;         // ... within this window marks the session FAILED
  // Set by the broker on the members a pool creates, so that workers report pool membership
  // with their sessions and a restarted broker rebuilds its pools (docs/SESSIONS.md "Pools").
  std::string pool;                            // the pool this session is a member of
  std::string pool_strategy;                   // that pool's strategy
  std::map<std::string, std::string> require;  // worker labels a host must have (label -> value)
  // Residency (docs/SESSIONS.md "Idle sessions"): when the CLI runs, and when it goes.
  std::string start{kStartEager};  // eager: CLI at placement; on_demand: at the first query
  uint64_t idle_timeout_ms = 0;    // idle this long -> hibernated (0: the worker's default)
  uint64_t max_rss_mb = 0;         // CLI resident memory above this -> recycled (0: no limit)
  // Tool approval (docs/SESSIONS.md "Tool approval"): who answers when the CLI asks whether
  // a tool may run. deny (the default, also when empty): nobody, every question is denied;
  // client: the client whose query is running; policy: permission_rules alone.
  std::string permission_handler;
  // Entries allow:RULE / deny:RULE in Claude Code's rule syntax (Bash(git status:*), Read,
  // Edit(/srv/app/**)); the worker applies them first with handler client or policy.
  std::vector<std::string> permission_rules;
  uint64_t permission_timeout_ms = 0;  // handler client: deny when no answer came (0: 60000)
  // What the CLI does beyond prompt and answer (docs/SESSIONS.md "Session options").
  double max_budget_usd = 0;                 // --max-budget-usd (0: unset)
  std::string fallback_model;                // --fallback-model a[,b...]
  std::string effort;                        // --effort low|medium|high|xhigh|max
  std::string settings;                      // --settings: a JSON object, or a path
  std::vector<std::string> setting_sources;  // --setting-sources user,project,local
  std::string agents;                        // --agents: a JSON object of custom agents
  std::string json_schema;                   // --json-schema: structured output's schema
  std::string mcp_config;                    // --mcp-config: {"mcpServers":{...}}, or a path
  bool strict_mcp_config = false;            // --strict-mcp-config
  // Cluster-side budget (docs/SESSIONS.md "Cost and budgets"): once the session's turns have
  // cost this much (since its last `budget --reset`), the broker answers its queries with
  // budget_exhausted at once, until `budget --add` or `--reset` (0: no budget).
  double budget_usd = 0;
  // Set by the broker on the members of a pool with a budget: the pool's budget_usd, which
  // its members' costs count against together.
  double pool_budget_usd = 0;

  // Applies one `key=value` setting as written in the sessions file or on a command line.
  // List keys take comma-separated values and append; env takes K=V; require takes
  // K=V[,K=V...].
  std::optional<Error> set(std::string_view key, std::string_view value);

  // Checks values that need no local facts (the worker checks cwd exists). The message names
  // the offending option.
  std::optional<Error> validate() const;

  // Decodes from a msgpack map, naming the option whose value has the wrong type.
  static Expected<SessionOptions, Error> fromObject(const msgpack::object& object);

  // The CLI starts with the first query, not at placement.
  bool onDemand() const { return start == kStartOnDemand; }
  // The permission handler in force: permission_handler, or deny when empty.
  std::string_view permissionHandler() const {
    return permission_handler.empty() ? kHandlerDeny : std::string_view(permission_handler);
  }

  bool operator==(const SessionOptions&) const = default;

  // True for the keys of the `options` map (as msgpack_pack writes them).
  static bool isKey(std::string_view key);
  // True for the options whose value is a JSON document's text (settings, agents,
  // json_schema, mcp_config): JSON forms may give them as objects.
  static bool isJsonText(std::string_view key) {
    return key == "settings" || key == "agents" || key == "json_schema" || key == "mcp_config";
  }
  // How many there are.
  static constexpr uint32_t kKeyCount = 34;

  template <class Packer>
  void msgpack_pack(Packer& packer) const {
    packer.pack_map(kKeyCount);
    packField(packer, "system_prompt", system_prompt);
    packField(packer, "append_system_prompt", append_system_prompt);
    packField(packer, "model", model);
    packField(packer, "max_turns", max_turns);
    packField(packer, "allowed_tools", allowed_tools);
    packField(packer, "disallowed_tools", disallowed_tools);
    packField(packer, "add_dir", add_dir);
    packField(packer, "permission_mode", permission_mode);
    packField(packer, "cwd", cwd);
    packField(packer, "env", env);
    packField(packer, "query_timeout_ms", query_timeout_ms);
    packField(packer, "resume", resume);
    packField(packer, "max_restarts", max_restarts);
    packField(packer, "restart_window_ms", restart_window_ms);
    packField(packer, "pool", pool);
    packField(packer, "pool_strategy", pool_strategy);
    packField(packer, "require", require);
    packField(packer, "start", start);
    packField(packer, "idle_timeout_ms", idle_timeout_ms);
    packField(packer, "max_rss_mb", max_rss_mb);
    packField(packer, "permission_handler", permission_handler);
    packField(packer, "permission_rules", permission_rules);
    packField(packer, "permission_timeout_ms", permission_timeout_ms);
    packField(packer, "max_budget_usd", max_budget_usd);
    packField(packer, "fallback_model", fallback_model);
    packField(packer, "effort", effort);
    packField(packer, "settings", settings);
    packField(packer, "setting_sources", setting_sources);
    packField(packer, "agents", agents);
    packField(packer, "json_schema", json_schema);
    packField(packer, "mcp_config", mcp_config);
    packField(packer, "strict_mcp_config", strict_mcp_config);
    packField(packer, "budget_usd", budget_usd);
    packField(packer, "pool_budget_usd", pool_budget_usd);
  }
  void msgpack_unpack(const msgpack::object& object);

 private:
  std::optional<Error> validatePermissions() const;
  std::optional<Error> validateAgentOptions() const;

  template <class Packer, class T>
  static void packField(Packer& packer, std::string_view key, const T& value) {
    packer.pack(key);
    packer.pack(value);
  }
};

// SessionOptions as a client asks for them (`start`, `pool_create`): the same map, but a key
// that is not an option is refused (bad_request naming it) rather than ignored, so that a
// typo such as `sytem_prompt` never passes silently. Everywhere else (options workers
// report, `config` in replies) unknown keys stay ignored, for peers of other versions.
struct RequestedOptions : SessionOptions {
  RequestedOptions() = default;
  RequestedOptions(SessionOptions options) : SessionOptions(std::move(options)) {}

  // As SessionOptions', and throws std::invalid_argument naming the first unknown key.
  void msgpack_unpack(const msgpack::object& object);
};

// Permission modes the CLI knows.
bool isKnownPermissionMode(std::string_view mode);

}  // namespace ccmesh
