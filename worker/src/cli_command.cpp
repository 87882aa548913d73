#include "ccmesh/worker/cli_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace ccmesh::worker {
namespace {

std::string joinComma(const std::vector<std::string>& items) {
  std::string joined;
  for (const auto& item : items) {
    if (!joined.empty()) joined += ',';
    joined += item;
  }
  return joined;
}

// Splits K=V; false for a malformed entry (no '=' or an empty name).
bool splitAssignment(const std::string& entry, std::string& key, std::string& value) {
  const auto eq = entry.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  key = entry.substr(0, eq);
  value = entry.substr(eq + 1);
  return true;
}

}  // namespace

CliCommand CliCommand::build(const CliSettings& settings, const SessionOptions& options,
                             ConversationStart start, const std::string& conversation_id,
                             const std::map<std::string, std::string>& base_env,
                             const std::string& fork_from) {
  CliCommand command;
  command.program = settings.program;
  command.cwd = options.cwd;
  auto& argv = command.argv;
  // --session-mirror: the CLI also prints the transcript entries it appends, which the
  // broker keeps so the conversation can follow the name to another machine.
  argv = {settings.program,  "-p",          "--input-format", "stream-json",
          "--output-format", "stream-json", "--verbose",      "--include-partial-messages"};
  if (settings.session_mirror) argv.emplace_back("--session-mirror");
  auto flag = [&argv](const char* name, const std::string& value) {
    if (value.empty()) return;
    argv.emplace_back(name);
    argv.push_back(value);
  };
  flag("--system-prompt", options.system_prompt);
  flag("--append-system-prompt", options.append_system_prompt);
  flag("--model", options.model);
  if (options.max_turns > 0) flag("--max-turns", std::to_string(options.max_turns));
  flag("--allowedTools", joinComma(options.allowed_tools));
  flag("--disallowedTools", joinComma(options.disallowed_tools));
  for (const auto& dir : options.add_dir) flag("--add-dir", dir);
  flag("--permission-mode", options.permission_mode);
  if (options.max_budget_usd > 0)
    flag("--max-budget-usd", fmt::format("{}", options.max_budget_usd));
  flag("--fallback-model", options.fallback_model);
  flag("--effort", options.effort);
  flag("--settings", options.settings);
  flag("--setting-sources", joinComma(options.setting_sources));
  flag("--agents", options.agents);
  flag("--json-schema", options.json_schema);
  // The `=` form: --mcp-config takes several values, and would take what follows.
  if (!options.mcp_config.empty()) argv.push_back("--mcp-config=" + options.mcp_config);
  if (options.strict_mcp_config) argv.emplace_back("--strict-mcp-config");
  // Tool questions come to the worker (can_use_tool), which answers them by the session's
  // permission_handler, so that every decision is logged and an event, whoever decides.
  flag("--permission-prompt-tool", "stdio");
  // Always the `=` form: an id starting with '-' must not be taken for a flag, and a bare
  // --resume would open the interactive picker.
  if (start == ConversationStart::kFork) {
    // The CLI takes --session-id with --resume only together with --fork-session.
    argv.push_back("--resume=" + fork_from);
    argv.emplace_back("--fork-session");
  }
  argv.push_back((start == ConversationStart::kResume ? "--resume=" : "--session-id=") +
                 conversation_id);
  argv.insert(argv.end(), settings.extra_args.begin(), settings.extra_args.end());

  std::map<std::string, std::string> env = base_env;
  env.erase("CLAUDECODE");
  for (const auto& [key, value] : options.env) env[key] = value;
  for (const auto& entry : settings.extra_env) {
    std::string key, value;
    if (splitAssignment(entry, key, value)) env[key] = value;
  }
  if (!options.cwd.empty()) env["PWD"] = options.cwd;
  command.env.reserve(env.size());
  for (const auto& [key, value] : env) command.env.push_back(key + "=" + value);
  return command;
}

std::map<std::string, std::string> CliCommand::currentEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = ::environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string key, value;
    if (splitAssignment(*entry, key, value)) env.emplace(std::move(key), std::move(value));
  }
  return env;
}

}  // namespace ccmesh::worker
