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
  uint64_t duplicates = 0;       // entries received again (a resend) and dropped
  uint64_t gaps = 0;             // batches that began after a missing entry (not stored)
  uint64_t damaged_files = 0;    // files read back whose end was torn or damaged
};

// One session's transcript: the entries its CLI mirrored, oldest first. Entries have
// positions in their conversation (1 is its first); the broker keeps one run of them,
// positions base + 1 .. held(), without holes.
struct Transcript {
  std::string session_id;           // the conversation they belong to
  std::deque<std::string> entries;  // in memory (empty while only on disk)
  uint64_t base = 0;                // position before the first entry kept (entries dropped
                                    // for the bound, or never received)
  uint64_t count = 0;               // entries kept, in memory or on disk
  uint64_t known = 0;               // the highest position the worker said exists
  uint64_t durable = 0;             // entries up to here are stored (in the file too, with a
                                    // data directory): what acks say
  std::size_t bytes = 0;            // their bytes, a newline each included
  uint64_t dropped = 0;             // entries dropped for the per-session bound
  uint64_t last_entry_ms = 0;       // when the last entry arrived (Unix ms; 0: unknown)
  bool resident = true;             // false: evicted, its entries only in its file
  bool file_stale = false;          // its file lacks entries memory has: written anew next
  std::size_t file_bytes = 0;       // size of its file (data directory only)
  std::string gap;                  // why entries are missing, when complete() is false
  bool cut_accepted = false;        // a client took what is held as its whole history

  uint64_t held() const { return base + count; }
  // What an ack may say: stored from position 1 (or from where the bound dropped the
  // oldest) up to `durable`; 0 when the start of the conversation never came.
  uint64_t ackable() const { return base > dropped ? 0 : durable; }
  // The whole conversation, as far as the worker mirrored it: a move resumes it whole.
  bool complete() const { return (base == 0 || cut_accepted) && held() >= known; }
  // Where and why it was cut, for errors and `info` (empty when complete).
  std::string cutReason() const;
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

  // Stores entries (each one JSON object, checked by the caller) at positions first,
  // first + 1, ... (first 0: after the last one kept) at wall-clock `now_ms`: positions
  // already held are dropped as duplicates; entries after a missing one are not stored (the
  // copy is incomplete until the missing ones come). Entries of another conversation than
  // the one kept start the transcript over. Returns the position up to which entries are
  // stored from the start (the `transcript_ack` to send; see Transcript::ackable).
  // `snapshot`: the entries are the conversation from position 1 and replace the copy.
  uint64_t append(const std::string& session, const std::string& session_id, uint64_t first,
                  std::vector<std::string> entries, uint64_t now_ms, bool snapshot = false);
  // The worker says conversation `session_id` of `session` has entries up to `position`.
  // Another conversation than the one kept starts the transcript over (empty).
  void noteKnown(const std::string& session, const std::string& session_id, uint64_t position);

  // A session's transcript with its entries in memory (read back from its file if it was
  // evicted); nullptr if there is none.
  const Transcript* get(const std::string& session);
  // A session's transcript as it is (entries possibly not in memory); nullptr if none.
  const Transcript* peek(const std::string& session) const;
  // A client accepts a cut conversation (`restart --from-cut`): what is held is its history
  // from now on.
  void acceptCut(const std::string& session);
  // A copy of the session starts from the entries held (they were sent to its worker): they
  // are its conversation now, numbered from 1, whatever was missing before them. The cut, if
  // any, is the session's to report.
  void continueFrom(const std::string& session);
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
  // Writes a transcript's file anew from memory; false if it could not.
  bool rewriteFile(const std::string& session, Transcript& transcript);
  // Brings a transcript's file up to date with the entries from position `fresh` on (all of
  // them if the file is stale or `whole`), and sets `durable`.
  void persist(const std::string& session, Transcript& transcript, uint64_t fresh, bool whole);
  // Counts and logs (rate-limited) a failed write, with its reason.
  void writeFailed(const std::string& session, const std::string& why);

  TranscriptLimits limits_;                        // bounds
  std::shared_ptr<spdlog::logger> log_;            // the broker's logger
  std::unique_ptr<TranscriptFiles> files_;         // the data directory, if any
  std::string data_dir_;                           // as configured ("" : none)
  std::map<std::string, Transcript> transcripts_;  // by session name
  std::list<std::string> lru_;                     // resident ones, least recently used first
  std::map<std::string, std::list<std::string>::iterator> lru_at_;  // name -> place in lru_
  std::size_t resident_bytes_ = 0;                                  // bytes of entries in memory
  TranscriptStats stats_;                                           // counters
  uint64_t failing_writes_ = 0;  // write errors since the last write that succeeded (the log
                                 // names the 1st, 10th, 100th, then every 1000th)
};

}  // namespace ccmesh::broker
