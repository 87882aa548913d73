#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ccmesh::mock_cli {

// A prompt read as one of the mock's slash commands. Anything not recognised exactly
// (including a command with a malformed argument) is a plain prompt.
struct PromptCommand {
  enum class Kind {
    kPlain,          // answer "turn n: PROMPT"
    kHistory,        // /history
    kSystem,         // /system
    kArgv,           // /argv
    kCwd,            // /cwd
    kEnv,            // /env NAME
    kModel,          // /model
    kMode,           // /mode: the permission mode in force
    kSleep,          // /sleep MS
    kHang,           // /hang
    kCrash,          // /crash
    kBig,            // /big N
    kDeltas,         // /deltas COUNT SIZE
    kGrow,           // /grow MB: allocate MB megabytes, touch them and keep them until exit
    kExit,           // /exit CODE
    kStderr,         // /stderr TEXT
    kSpawn,          // /spawn: start a long-lived child (a stand-in for a tool) and answer its pid
    kPid,            // /pid: answer this CLI process's own pid
    kMirrorGarbage,  // /mirror-garbage: print malformed and oversized transcript_mirror lines
    kTool,           // /tool NAME INPUT: ask can_use_tool and answer what the reply said
  };

  Kind kind = Kind::kPlain;
  std::string text;     // NAME of /env and /tool, TEXT of /stderr
  std::string input;    // INPUT of /tool: the rest of the line, maybe empty
  uint64_t number = 0;  // MS of /sleep, N of /big, CODE of /exit, COUNT of /deltas,
                        // MB of /grow
  uint64_t size = 0;    // SIZE of /deltas

  static PromptCommand parse(std::string_view prompt);
};

}  // namespace ccmesh::mock_cli
