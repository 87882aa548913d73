#pragma once

#include <spdlog/logger.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ccmesh::broker {

class TranscriptFiles;

// How much transcript the broker keeps (docs/OPERATIONS.md "Transcripts").
struct TranscriptLimits {
  std::size_t max_session_bytes = 8u << 20;  // per session: beyond it the oldest entries go
  std::size_t max_total_bytes = 512u << 20;  // in memory, all sessions: beyond it the least
                                             // recently used transcripts leave memory
};

// Counters about transcripts; `status` reports them.
struct TranscriptStats {
  uint64_t dropped_entries = 0;  // oldest entries dropped for the per-session bound
  uint64_t evictions = 0;        // transcripts that left memory for the total bound
  uint64_t rejected = 0;         // mirrored entries refused (malformed, oversized)
  uint64_t write_errors = 0;     // writes to the data directory that failed
};

// One session's transcript: the entries its CLI mirrored, oldest first.
struct Transcript {
  std::string session_id;           // the conversation they belong to
  std::deque<std::string> entries;  // in memory (empty while only on disk)
  uint64_t count = 0;               // entries kept, in memory or on disk
  std::size_t bytes = 0;            // their bytes, a newline each included
  uint64_t dropped = 0;             // entries dropped for the per-session bound
  uint64_t last_entry_ms = 0;       // when the last entry arrived (Unix ms; 0: unknown)
  bool resident = true;             // false: evicted, its entries only in its file
  std::size_t file_bytes = 0;       // size of its file (data directory only)
};

// The transcripts the broker keeps, by session name: in memory within TranscriptLimits, and
// with a data directory also in one append-only file per session (TranscriptFiles), so a
// broker restart keeps them and a transcript evicted from memory is read back when needed.
// Without a data directory an evicted transcript is gone. Never throws after load().
class TranscriptStore {
 public:
  // `data_dir` empty: memory only.
  TranscriptStore(TranscriptLimits limits, const std::string& data_dir,
                  std::shared_ptr<spdlog::logger> log);
  ~TranscriptStore();
  TranscriptStore(const TranscriptStore&) = delete;
  TranscriptStore& operator=(const TranscriptStore&) = delete;

  // Reads the transcripts of the data directory (start-up). Throws ConfigError if the
  // directory cannot be created.
  void load();

  // Appends entries (each one JSON object, checked by the caller) at wall-clock `now_ms`.
  // Entries of another conversation than the one kept start the transcript over.
  void append(const std::string& session, const std::string& session_id,
              std::vector<std::string> entries, uint64_t now_ms);

  // A session's transcript with its entries in memory (read back from its file if it was
  // evicted); nullptr if there is none.
  const Transcript* get(const std::string& session);
  // A session's transcript as it is (entries possibly not in memory); nullptr if none.
  const Transcript* peek(const std::string& session) const;
  // Forgets a session's transcript, its file too.
  void remove(const std::string& session);

  // The entries as JSONL, one a line.
  static std::string jsonl(const Transcript& transcript);

  std::size_t residentBytes() const { return resident_bytes_; }
  std::size_t size() const { return transcripts_.size(); }
  const TranscriptStats& stats() const { return stats_; }
  // Entries refused before they reached the store (by the worker or the message handler).
  void countRejected(uint64_t entries) { stats_.rejected += entries; }
  const TranscriptLimits& limits() const { return limits_; }

 private:
  // Drops the oldest entries beyond the per-session bound.
  void trim(const std::string& session, Transcript& transcript);
  // Marks a transcript most recently used (and resident).
  void touch(const std::string& session);
  // Evicts least recently used transcripts, never `keep`, until memory fits the total bound.
  void fitTotal(const std::string& keep);
  // Writes a transcript's file anew from memory.
  void rewriteFile(const std::string& session, Transcript& transcript);

  TranscriptLimits limits_;                        // bounds
  std::shared_ptr<spdlog::logger> log_;            // the broker's logger
  std::unique_ptr<TranscriptFiles> files_;         // the data directory, if any
  std::string data_dir_;                           // as configured ("" : none)
  std::map<std::string, Transcript> transcripts_;  // by session name
  std::list<std::string> lru_;                     // resident ones, least recently used first
  std::map<std::string, std::list<std::string>::iterator> lru_at_;  // name -> place in lru_
  std::size_t resident_bytes_ = 0;                                  // bytes of entries in memory
  TranscriptStats stats_;                                           // counters
};

}  // namespace ccmesh::broker
