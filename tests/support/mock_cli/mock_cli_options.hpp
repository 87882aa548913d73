#pragma once

#include <string>
#include <vector>

namespace ccmesh::mock_cli {

// Everything ccmesh-mock-cli was told on its command line. Flags the real CLI has but the mock
// does not model (-p, --verbose, --input-format, ...) are accepted and dropped.
struct MockCliOptions {
  bool include_partial_messages = false;      // --include-partial-messages
  bool session_mirror = false;                // --session-mirror
  bool fork_session = false;                  // --fork-session (with --resume: a new id)
  bool show_help = false;                     // --help / -h
  bool show_version = false;                  // --version / -v
  std::string session_id;                     // --session-id (new conversation with this id)
  std::string resume_id;                      // --resume (continue this conversation)
  std::string system_prompt;                  // --system-prompt (empty: none)
  std::string append_system_prompt;           // --append-system-prompt (empty: none)
  std::string model = "mock-model";           // --model
  std::string permission_mode = "default";    // --permission-mode
  std::string permission_prompt_tool;         // --permission-prompt-tool (stdio: ask the host)
  int max_turns = 0;                          // --max-turns (0: unset; the mock always does 1)
  std::vector<std::string> allowed_tools;     // --allowedTools a,b
  std::vector<std::string> disallowed_tools;  // --disallowedTools a,b
  std::vector<std::string> add_dirs;          // --add-dir D, once per flag
  std::string json_schema;        // --json-schema: results carry structured_output {"answer": TEXT}
  double max_budget_usd = 0;      // --max-budget-usd: a turn then costs 0.01 USD, and once the
                                  // budget is spent a turn ends error_max_budget_usd
  std::vector<std::string> args;  // argv without argv[0], for /argv

  // Never fails: malformed or unknown arguments are reported on stderr at most and skipped.
  static MockCliOptions parse(int argc, const char* const* argv);

  // The system prompt as the model would see it, or "(none)".
  std::string effectiveSystemPrompt() const;

  // The tools reported in system/init: the built-in set minus the disallowed ones.
  std::vector<std::string> tools() const;
};

// Short usage text for --help.
const char* mockCliUsage();

}  // namespace ccmesh::mock_cli
