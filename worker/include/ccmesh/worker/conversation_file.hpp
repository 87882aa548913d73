#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccmesh::worker {

// Where Claude Code keeps a conversation's transcript, and how a worker puts one there that
// came from another machine: $CLAUDE_CONFIG_DIR (default $HOME/.claude), then
// projects/<slug of the working directory>/<session_id>.jsonl. The CLI started with
// --resume=<session_id> in that working directory then continues the conversation.
class ConversationFile {
 public:
  // The transcript path for a CLI with environment `env` (K=V; CLAUDE_CONFIG_DIR, HOME)
  // working in `cwd` (empty: this process's), with symlinks resolved as the CLI does.
  static std::filesystem::path pathFor(const std::vector<std::string>& env, const std::string& cwd,
                                       const std::string& session_id);

  // The directory name the CLI uses for a working directory: every character outside
  // [A-Za-z0-9] replaced by '-' (the real CLI shortens names past 200 characters with a
  // hash this does not reproduce; docs/SESSIONS.md says so).
  static std::string projectSlug(std::string_view cwd);

  // A session id that is safe as a file name (no '/', not "." or "..", not empty).
  static bool usableSessionId(std::string_view session_id);

  // Writes `jsonl` to `path` through a temporary file renamed over it, creating the
  // directories. Returns why it failed, or nothing.
  static std::optional<std::string> write(const std::filesystem::path& path,
                                          const std::string& jsonl);
};

}  // namespace ccmesh::worker
