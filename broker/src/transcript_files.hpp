#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ccmesh::broker {

// The broker's transcripts on disk (--data-dir DIR): one append-only file per session,
// DIR/transcripts/<escaped name>.jsonl. Its first line names the session and its
// conversation ({"ccmesh_transcript":2,"session":...,"session_id":...}); every other line is
// one record: `<position> <crc32 of the entry, 8 hex digits> <entry>`, positions one after
// the other. A record that does not check (torn by a crash or a full disk, or a position out
// of line) ends what is read: the entries before it are whole, the rest is known to be
// missing. Every append is written and fflush()ed before it returns (it survives a broker
// crash; a power cut can lose what the kernel had not written yet). Files of format 1
// (entries without positions) are still read. Nothing here throws after construction:
// failures return why.
class TranscriptFiles {
 public:
  // One file as read back.
  struct Contents {
    std::string session;               // from the header
    std::string session_id;            // from the header
    std::vector<std::string> entries;  // the newest whole entries within the byte bound
    uint64_t base = 0;                 // the position before entries.front()
    std::size_t file_bytes = 0;        // the file's size
    // Non-empty: the file does not end with a whole record (what follows the entries was
    // torn or damaged, so entries after them existed): why, for the log.
    std::string damage;
    // Entries left out for the byte bound, or lines that were skipped: write it anew.
    bool rewrite = false;
  };

  // Creates DIR/transcripts if needed; throws ConfigError if it cannot.
  explicit TranscriptFiles(const std::filesystem::path& data_dir);

  // Every transcript file in the directory.
  std::vector<std::filesystem::path> list() const;
  // Reads a file, keeping the newest whole entries whose bytes (a newline each) fit
  // `max_bytes`. Nothing if it cannot be read or has no valid header.
  std::optional<Contents> read(const std::filesystem::path& path, std::size_t max_bytes) const;
  std::optional<Contents> readSession(const std::string& session, std::size_t max_bytes) const {
    return read(pathOf(session), max_bytes);
  }
  // Appends entries at positions first, first + 1, ... to an existing file; adds the bytes
  // written to `file_bytes`. Returns why it failed, or nothing.
  template <class Entries>
  std::optional<std::string> append(const std::string& session, uint64_t first,
                                    const Entries& entries, std::size_t& file_bytes);
  // Replaces the file with a header and these entries at positions base + 1, ... (through a
  // renamed temporary file); sets `file_bytes`. Returns why it failed, or nothing.
  template <class Entries>
  std::optional<std::string> rewrite(const std::string& session, const std::string& session_id,
                                     uint64_t base, const Entries& entries,
                                     std::size_t& file_bytes);
  void remove(const std::string& session);

  // The file of a session: its name with characters other than [A-Za-z0-9_-] as %XX, or a
  // hash of it when that would be too long for a file name.
  std::filesystem::path pathOf(const std::string& session) const;
  // The first line of a file.
  static std::string header(const std::string& session, const std::string& session_id);
  // One record line, its newline included.
  static std::string record(uint64_t position, const std::string& entry);

 private:
  std::optional<std::string> appendBytes(const std::filesystem::path& path,
                                         const std::string& data);
  std::optional<std::string> writeTemporaryAndRename(const std::filesystem::path& path,
                                                     const std::string& data);

  std::filesystem::path dir_;  // DIR/transcripts
};

template <class Entries>
std::optional<std::string> TranscriptFiles::append(const std::string& session, uint64_t first,
                                                   const Entries& entries,
                                                   std::size_t& file_bytes) {
  std::string data;
  uint64_t position = first;
  for (const auto& entry : entries) data += record(position++, entry);
  auto error = appendBytes(pathOf(session), data);
  if (!error) file_bytes += data.size();
  return error;
}

template <class Entries>
std::optional<std::string> TranscriptFiles::rewrite(const std::string& session,
                                                    const std::string& session_id, uint64_t base,
                                                    const Entries& entries,
                                                    std::size_t& file_bytes) {
  std::string data = header(session, session_id);
  uint64_t position = base + 1;
  for (const auto& entry : entries) data += record(position++, entry);
  auto error = writeTemporaryAndRename(pathOf(session), data);
  if (!error) file_bytes = data.size();
  return error;
}

}  // namespace ccmesh::broker
