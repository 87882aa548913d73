#include "mock_cli_options.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace ccmesh::mock_cli {
namespace {

constexpr std::array<std::string_view, 6> kBuiltinTools{"Bash", "Read", "Write",
                                                        "Edit", "Glob", "Grep"};

// Flags that consume a value, either as --flag=value or as the next argument.
constexpr std::array<std::string_view, 24> kValueFlags{"--session-id",
                                                       "--resume",
                                                       "-r",
                                                       "--system-prompt",
                                                       "--append-system-prompt",
                                                       "--model",
                                                       "--max-turns",
                                                       "--allowedTools",
                                                       "--allowed-tools",
                                                       "--disallowedTools",
                                                       "--disallowed-tools",
                                                       "--add-dir",
                                                       "--permission-mode",
                                                       "--input-format",
                                                       "--output-format",
                                                       "--fallback-model",
                                                       "--mcp-config",
                                                       "--permission-prompt-tool",
                                                       "--json-schema",
                                                       "--max-budget-usd",
                                                       "--effort",
                                                       "--settings",
                                                       "--setting-sources",
                                                       "--agents"};

bool takesValue(std::string_view flag) {
  return std::find(kValueFlags.begin(), kValueFlags.end(), flag) != kValueFlags.end();
}

// Splits a tool list on commas and whitespace, dropping empty items.
void appendList(std::string_view text, std::vector<std::string>& out) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find_first_of(", \t\n", start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
}

void applyValue(std::string_view flag, std::string_view value, MockCliOptions& options) {
  if (flag == "--session-id") {
    options.session_id = value;
  } else if (flag == "--resume" || flag == "-r") {
    options.resume_id = value;
  } else if (flag == "--system-prompt") {
    options.system_prompt = value;
  } else if (flag == "--append-system-prompt") {
    options.append_system_prompt = value;
  } else if (flag == "--model") {
    if (!value.empty()) options.model = value;
  } else if (flag == "--permission-mode") {
    if (!value.empty()) options.permission_mode = value;
  } else if (flag == "--permission-prompt-tool") {
    options.permission_prompt_tool = value;
  } else if (flag == "--json-schema") {
    options.json_schema = value;
  } else if (flag == "--max-budget-usd") {
    options.max_budget_usd = std::strtod(std::string(value).c_str(), nullptr);
  } else if (flag == "--max-turns") {
    int turns = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), turns);
    if (ec == std::errc() && end == value.data() + value.size()) {
      options.max_turns = turns;
    } else {
      std::fprintf(stderr, "mock-cli: ignoring bad --max-turns value '%.*s'\n",
                   static_cast<int>(value.size()), value.data());
    }
  } else if (flag == "--allowedTools" || flag == "--allowed-tools") {
    appendList(value, options.allowed_tools);
  } else if (flag == "--disallowedTools" || flag == "--disallowed-tools") {
    appendList(value, options.disallowed_tools);
  } else if (flag == "--add-dir") {
    options.add_dirs.emplace_back(value);
  }
  // --input-format, --output-format and the rest: accepted, not modelled.
}

void applySwitch(std::string_view flag, MockCliOptions& options) {
  if (flag == "--include-partial-messages") {
    options.include_partial_messages = true;
  } else if (flag == "--session-mirror") {
    options.session_mirror = true;
  } else if (flag == "--fork-session") {
    options.fork_session = true;
  } else if (flag == "--help" || flag == "-h") {
    options.show_help = true;
  } else if (flag == "--version" || flag == "-v") {
    options.show_version = true;
  }
  // -p/--print, --verbose, unknown flags and positional arguments are ignored.
}

}  // namespace

MockCliOptions MockCliOptions::parse(int argc, const char* const* argv) {
  MockCliOptions options;
  for (int i = 1; i < argc; ++i) options.args.emplace_back(argv[i] ? argv[i] : "");
  for (size_t i = 0; i < options.args.size(); ++i) {
    std::string_view arg = options.args[i];
    if (arg.size() < 2 || arg[0] != '-') continue;  // positional: ignored
    size_t equals = arg.find('=');
    if (arg.starts_with("--") && equals != std::string_view::npos) {
      std::string_view flag = arg.substr(0, equals);
      if (takesValue(flag)) applyValue(flag, arg.substr(equals + 1), options);
      continue;
    }
    if (takesValue(arg)) {
      if (i + 1 >= options.args.size()) {
        std::fprintf(stderr, "mock-cli: ignoring %.*s without a value\n",
                     static_cast<int>(arg.size()), arg.data());
        continue;
      }
      applyValue(arg, options.args[++i], options);
      continue;
    }
    applySwitch(arg, options);
  }
  return options;
}

std::string MockCliOptions::effectiveSystemPrompt() const {
  if (system_prompt.empty() && append_system_prompt.empty()) return "(none)";
  if (append_system_prompt.empty()) return system_prompt;
  if (system_prompt.empty()) return append_system_prompt;
  return system_prompt + "\n" + append_system_prompt;
}

std::vector<std::string> MockCliOptions::tools() const {
  std::vector<std::string> result;
  for (std::string_view tool : kBuiltinTools) {
    if (std::find(disallowed_tools.begin(), disallowed_tools.end(), tool) ==
        disallowed_tools.end()) {
      result.emplace_back(tool);
    }
  }
  return result;
}

const char* mockCliUsage() {
  return "Usage: ccmesh-mock-cli [-p] [--input-format stream-json] [--output-format stream-json]\n"
         "                       [--verbose] [--include-partial-messages] [--session-mirror]\n"
         "                       [--session-id ID | --resume ID [--fork-session [--session-id "
         "ID]]]\n"
         "                       [--model M]\n"
         "                       [--system-prompt S] [--append-system-prompt S] [--max-turns N]\n"
         "                       [--allowedTools a,b] [--disallowedTools a,b] [--add-dir D]...\n"
         "                       [--permission-mode M] [--help] [--version]\n"
         "\n"
         "A deterministic test double of the Claude Code CLI speaking stream-json on stdin and\n"
         "stdout. Prompts answer 'turn N: PROMPT'; special prompts: /history /system /argv /cwd\n"
         "/env NAME /model /sleep MS /hang /crash /big N /deltas COUNT SIZE /exit CODE\n"
         "/stderr TEXT /grow MB /spawn /mirror-garbage /mode /tool NAME INPUT (asks can_use_tool\n"
         "with INPUT, a JSON object or else {\"command\":INPUT}, and answers the verdict).\n"
         "Transcripts go to $CLAUDE_CONFIG_DIR (default ~/.claude)/projects/<slug>/<ID>.jsonl.\n";
}

}  // namespace ccmesh::mock_cli
