#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ccmesh::broker {

// The broker's transcripts on disk (--data-dir DIR): one append-only file per session,
// DIR/transcripts/<escaped name>.jsonl, whose first line names the session and its
// conversation ({"ccmesh_transcript":1,"session":...,"session_id":...}) and whose other
// lines are the entries, oldest first. Every append is written and fflush()ed before it
// returns (so it survives a broker crash; a power cut can lose what the kernel had not
// written yet). Nothing here throws after construction: failures return false.
class TranscriptFiles {
 public:
  // One file as read back.
  struct Contents {
    std::string session;               // from the header
    std::string session_id;            // from the header
    std::vector<std::string> entries;  // the newest entries within the byte bound
    std::size_t dropped = 0;           // older entries left out for that bound
    std::size_t file_bytes = 0;        // the file's size
    bool damaged = false;              // lines skipped (a torn last line, say): rewrite it
  };

  // Creates DIR/transcripts if needed; throws ConfigError if it cannot.
  explicit TranscriptFiles(const std::filesystem::path& data_dir);

  // Every transcript file in the directory.
  std::vector<std::filesystem::path> list() const;
  // Reads a file, keeping the newest entries whose bytes (a newline each) fit `max_bytes`.
  // Nothing if it cannot be read or has no valid header.
  std::optional<Contents> read(const std::filesystem::path& path, std::size_t max_bytes) const;
  std::optional<Contents> readSession(const std::string& session, std::size_t max_bytes) const {
    return read(pathOf(session), max_bytes);
  }
  // Appends entries to an existing file; adds the bytes written to `file_bytes`.
  bool append(const std::string& session, const std::vector<std::string>& entries,
              std::size_t& file_bytes);
  // Replaces the file with a header and these entries (through a renamed temporary file);
  // sets `file_bytes`.
  template <class Entries>
  bool rewrite(const std::string& session, const std::string& session_id, const Entries& entries,
               std::size_t& file_bytes);
  void remove(const std::string& session);

  // The file of a session: its name with characters other than [A-Za-z0-9_-] as %XX, or a
  // hash of it when that would be too long for a file name.
  std::filesystem::path pathOf(const std::string& session) const;
  // The first line of a file.
  static std::string header(const std::string& session, const std::string& session_id);

 private:
  bool writeTemporaryAndRename(const std::filesystem::path& path, const std::string& data);

  std::filesystem::path dir_;  // DIR/transcripts
};

template <class Entries>
bool TranscriptFiles::rewrite(const std::string& session, const std::string& session_id,
                              const Entries& entries, std::size_t& file_bytes) {
  std::string data = header(session, session_id);
  for (const auto& entry : entries) {
    data += entry;
    data += '\n';
  }
  if (!writeTemporaryAndRename(pathOf(session), data)) return false;
  file_bytes = data.size();
  return true;
}

}  // namespace ccmesh::broker
