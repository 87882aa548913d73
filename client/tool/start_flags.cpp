#include "start_flags.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <vector>

namespace po = boost::program_options;

namespace ccmesh::client {
namespace {

// A `ccmesh start` flag and the SessionOptions key it sets.
struct StartFlag {
  const char* flag;        // the long option, without "--"
  const char* key;         // the SessionOptions key it sets
  const char* value_name;  // placeholder in --help
  const char* help;        // its line in --help
  bool repeatable;         // may be given several times, each appends
  bool path;               // a relative value is made absolute against the caller's directory
  const char* implicit = nullptr;  // the value of the flag given alone (a switch), if any
};

constexpr std::array<StartFlag, 31> kStartFlags{{
    {"system-prompt", "system_prompt", "S", "replace the CLI's system prompt", false, false},
    {"append-system-prompt", "append_system_prompt", "S", "append to the CLI's system prompt",
     false, false},
    {"model", "model", "M", "model of the CLI (--model)", false, false},
    {"max-turns", "max_turns", "N", "agentic turns per query (0: the CLI's default)", false, false},
    {"allowed-tools", "allowed_tools", "a,b", "tools the CLI may use without asking", true, false},
    {"disallowed-tools", "disallowed_tools", "a,b", "tools the CLI may not use", true, false},
    {"add-dir", "add_dir", "D", "extra directory the CLI may access (repeatable)", true, true},
    {"cwd", "cwd", "D", "working directory of the CLI on its worker (must exist there)", false,
     true},
    {"permission-mode", "permission_mode", "M",
     "default, acceptEdits, bypassPermissions, plan, dontAsk or auto", false, false},
    {"env", "env", "K=V", "extra environment variable of the CLI (repeatable)", true, false},
    {"query-timeout", "query_timeout_ms", "MS", "default deadline of the session's queries", false,
     false},
    {"resume", "resume", "ID", "resume this CLI conversation id at first start", false, false},
    {"max-restarts", "max_restarts", "N", "restarts allowed within --restart-window", false, false},
    {"restart-window", "restart_window_ms", "MS", "window of --max-restarts", false, false},
    {"require", "require", "K=V",
     "place only on workers with this label value (repeatable, or K=V,K2=V2)", true, false},
    {"start", "start", "eager|on_demand",
     "eager: the CLI starts at once; on_demand: with the first query", false, false},
    {"idle-timeout", "idle_timeout_ms", "MS",
     "hibernate the session (stop its CLI, keep its conversation) after MS idle", false, false},
    {"max-rss-mb", "max_rss_mb", "MB",
     "restart the CLI with its history, between turns, once it holds more memory", false, false},
    {"permission-handler", "permission_handler", "deny|client|policy",
     "who answers the CLI's tool questions: nobody (deny), the querying client, or the rules",
     false, false},
    {"permission-rule", "permission_rules", "allow:R|deny:R",
     "a tool rule applied first, e.g. allow:Bash(git status:*) (repeatable)", true, false},
    {"permission-timeout", "permission_timeout_ms", "MS",
     "deny a tool question the client has not answered after MS (default 60000)", false, false},
    {"max-budget-usd", "max_budget_usd", "USD",
     "the CLI stops spending past this; queries then end budget_exhausted", false, false},
    {"budget-usd", "budget_usd", "USD",
     "the cluster's budget: once its turns cost this much, queries get budget_exhausted at "
     "once (see ccmesh budget)",
     false, false},
    {"fallback-model", "fallback_model", "M[,M2]",
     "models the CLI falls back to when the main one is busy", false, false},
    {"effort", "effort", "E", "effort level: low, medium, high, xhigh or max", false, false},
    {"settings", "settings", "JSON|/path", "more CLI settings: a JSON object or an absolute path",
     false, false},
    {"setting-sources", "setting_sources", "a,b",
     "setting files the CLI reads: user, project, local", true, false},
    {"agents", "agents", "JSON", "custom agents, a JSON object", false, false},
    {"json-schema", "json_schema", "JSON",
     "structured output: answers carry a value of this JSON schema", false, false},
    {"mcp-config", "mcp_config", "JSON|/path",
     "MCP servers: {\"mcpServers\":{...}} or an absolute path on the worker", false, false},
    {"strict-mcp-config", "strict_mcp_config", "true|false", "only the MCP servers of --mcp-config",
     false, false, "true"},
}};

// "a,b" -> {"a", "b"}, empty entries dropped (as SessionOptions::set does).
std::vector<std::string> splitList(const std::string& value) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = std::min(value.find(',', start), value.size());
    if (comma > start) items.push_back(value.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

// A path as given, or made absolute against the caller's directory when it is relative.
std::string absolute(const std::string& path, const std::string& working_directory) {
  if (path.empty() || path.front() == '/') return path;
  std::string joined =
      (std::filesystem::path(working_directory) / path).lexically_normal().string();
  if (joined.size() > 1 && joined.back() == '/') joined.pop_back();  // "." -> "/dir", not "/dir/"
  return joined;
}

}  // namespace

void addStartFlags(po::options_description& options) {
  for (const auto& flag : kStartFlags) {
    if (flag.repeatable) {
      options.add_options()(
          flag.flag, po::value<std::vector<std::string>>()->value_name(flag.value_name), flag.help);
    } else if (flag.implicit != nullptr) {
      options.add_options()(
          flag.flag,
          po::value<std::string>()->value_name(flag.value_name)->implicit_value(flag.implicit),
          flag.help);
    } else {
      options.add_options()(flag.flag, po::value<std::string>()->value_name(flag.value_name),
                            flag.help);
    }
  }
}

std::optional<std::string> readStartFlags(const po::variables_map& vm,
                                          const std::string& working_directory,
                                          SessionOptions& options) {
  for (const auto& flag : kStartFlags) {
    if (vm.count(flag.flag) == 0) continue;
    std::vector<std::string> values;
    if (flag.repeatable) {
      values = vm[flag.flag].as<std::vector<std::string>>();
    } else {
      values.push_back(vm[flag.flag].as<std::string>());
    }
    for (const auto& value : values) {
      // A list of paths (a,b) is split here so that each entry is made absolute.
      const auto items =
          flag.path && flag.repeatable ? splitList(value) : std::vector<std::string>{value};
      for (const auto& item : items) {
        if (auto error =
                options.set(flag.key, flag.path ? absolute(item, working_directory) : item)) {
          return error->message;
        }
      }
    }
  }
  if (auto error = options.validate()) return error->message;
  return std::nullopt;
}

}  // namespace ccmesh::client
