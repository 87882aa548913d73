#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "output_writer.hpp"

namespace ccmesh::mock_cli {

// The conversation transcript, kept where Claude Code keeps it
// ($CLAUDE_CONFIG_DIR or ~/.claude, then projects/<slug of cwd>/<session id>.jsonl) so that
// --resume works across processes. Appends one JSON line per entry, chained by parentUuid.
class TranscriptStore {
 public:
  TranscriptStore(std::string session_id, std::string cwd);
  ~TranscriptStore();
  TranscriptStore(const TranscriptStore&) = delete;
  TranscriptStore& operator=(const TranscriptStore&) = delete;

  // $CLAUDE_CONFIG_DIR, else $HOME/.claude, made absolute.
  static std::filesystem::path configDir();

  // The cwd with every character outside [A-Za-z0-9] replaced by '-'.
  static std::string projectSlug(std::string_view cwd);

  const std::filesystem::path& path() const { return path_; }
  bool exists() const;

  // Reads the prompts of the user entries in file order (lines that do not parse are
  // skipped) and remembers the last entry's uuid so new entries chain onto it.
  std::vector<std::string> loadPrompts();

  // Append an entry, creating directories and file on first use; return the entry written.
  // A transcript that cannot be written is reported on stderr and otherwise ignored.
  Json appendUser(const std::string& prompt);
  Json appendAssistant(const std::string& model, const std::string& text);

  // --fork-session: the entries of the transcript at `source` are copied into this one, under
  // this session id, when the first prompt comes (as the real CLI does; see takeFork).
  void forkOnFirstPrompt(std::filesystem::path source) { fork_source_ = std::move(source); }
  // The first call after forkOnFirstPrompt copies the source's entries (JSON objects; other
  // lines are skipped) and returns them as written; any other returns nothing.
  std::vector<Json> takeFork();

 private:
  Json append(const std::string& type, Json message);
  void write(const Json& entry);

  std::string session_id_;
  std::string cwd_;
  std::filesystem::path path_;
  std::string last_uuid_;              // empty: the next entry has parentUuid null
  std::filesystem::path fork_source_;  // non-empty: a fork whose history is not copied yet
  std::FILE* file_ = nullptr;
  bool failed_ = false;  // opening failed once; do not retry or repeat the warning
};

}  // namespace ccmesh::mock_cli
