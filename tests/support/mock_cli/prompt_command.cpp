#include "prompt_command.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace ccmesh::mock_cli {
namespace {

using Kind = PromptCommand::Kind;

constexpr std::array<std::pair<std::string_view, Kind>, 11> kBareCommands{{
    {"/spawn", Kind::kSpawn},
    {"/pid", Kind::kPid},
    {"/crash", Kind::kCrash},
    {"/history", Kind::kHistory},
    {"/system", Kind::kSystem},
    {"/argv", Kind::kArgv},
    {"/cwd", Kind::kCwd},
    {"/model", Kind::kModel},
    {"/mode", Kind::kMode},
    {"/hang", Kind::kHang},
    {"/mirror-garbage", Kind::kMirrorGarbage},
}};

bool parseNumber(std::string_view text, uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

PromptCommand PromptCommand::parse(std::string_view prompt) {
  PromptCommand command;
  if (!prompt.starts_with('/')) return command;
  for (const auto& [name, kind] : kBareCommands) {
    if (prompt == name) {
      command.kind = kind;
      return command;
    }
  }
  size_t space = prompt.find(' ');
  if (space == std::string_view::npos) return command;
  std::string_view name = prompt.substr(0, space);
  std::string_view argument = prompt.substr(space + 1);
  if (name == "/env") {
    command.kind = Kind::kEnv;
    command.text = argument;
  } else if (name == "/stderr") {
    command.kind = Kind::kStderr;
    command.text = argument;
  } else if (name == "/sleep" && parseNumber(argument, command.number)) {
    command.kind = Kind::kSleep;
  } else if (name == "/big" && parseNumber(argument, command.number)) {
    command.kind = Kind::kBig;
  } else if (name == "/exit" && parseNumber(argument, command.number)) {
    command.kind = Kind::kExit;
  } else if (name == "/grow" && parseNumber(argument, command.number)) {
    command.kind = Kind::kGrow;
  } else if (name == "/tool") {
    size_t gap = argument.find(' ');
    command.text = argument.substr(0, gap);
    if (gap != std::string_view::npos) command.input = argument.substr(gap + 1);
    if (!command.text.empty()) command.kind = Kind::kTool;
  } else if (name == "/deltas") {
    size_t gap = argument.find(' ');
    if (gap != std::string_view::npos && parseNumber(argument.substr(0, gap), command.number) &&
        parseNumber(argument.substr(gap + 1), command.size)) {
      command.kind = Kind::kDeltas;
    }
  }
  return command;
}

}  // namespace ccmesh::mock_cli
