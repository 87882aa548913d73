#pragma once

#include <map>
#include <string>
#include <vector>

#include "ccmesh/common/session_options.hpp"

namespace ccmesh::worker {

// What the worker adds to every CLI it starts (--cli, --cli-arg, --cli-env).
struct CliSettings {
  std::string program;                  // the CLI executable (a path, or a name on PATH)
  std::vector<std::string> extra_args;  // appended after the flags the worker sets
  std::vector<std::string> extra_env;   // K=V, applied last (they win over options.env)
  bool session_mirror = true;           // --session-mirror: transcripts reach the broker
};

// How a CLI process begins its conversation.
enum class ConversationStart {
  kNew,     // --session-id=<id>: a new conversation with an id the worker chose
  kResume,  // --resume=<id>: continue a conversation from its transcript
  kFork,    // --resume=<from> --fork-session --session-id=<id>: continue conversation `from`
            // under the new id <id>, leaving `from` as it was
};

// Everything needed to exec one CLI process: the stream-json flags, the session's options
// as flags, the pinned conversation id, the environment and the working directory.
struct CliCommand {
  std::string program;            // what to execute (argv[0] too)
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // the complete environment, K=V
  std::string cwd;                // working directory; empty: the worker's

  // The environment: base, then options.env, then settings.extra_env, later ones winning.
  // CLAUDECODE is removed (the CLI refuses to start inside another Claude Code session)
  // and PWD follows the working directory.
  static CliCommand build(const CliSettings& settings, const SessionOptions& options,
                          ConversationStart start, const std::string& conversation_id,
                          const std::map<std::string, std::string>& base_env,
                          const std::string& fork_from = {});

  // This process's environment as a map (the usual base_env).
  static std::map<std::string, std::string> currentEnvironment();
};

}  // namespace ccmesh::worker
