#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "ccmesh/common/worker_messages.hpp"

namespace ccmesh::worker {

// One session's side of the transcript the broker keeps (docs/SESSIONS.md "What survives
// which failure"): numbers the entries its CLI mirrors by their position in the
// conversation, collects them into `transcript_append` batches, and keeps every entry sent
// until a `transcript_ack` covers it, so a broker that restarted (or dropped a batch from a
// worker it did not know yet) gets them again. Keeps at most `retain_bytes` unacknowledged
// bytes: beyond that the oldest are forgotten, and the broker sees the gap.
class TranscriptMirror {
 public:
  explicit TranscriptMirror(std::size_t retain_bytes) : retain_bytes_(retain_bytes) {}

  // A conversation begins, or continues from a transcript written anew: `conversation_id`,
  // whose transcript holds `entries` entries. Forgets everything collected or kept before.
  void begin(const std::string& conversation_id, uint64_t entries);
  // An entry the CLI mirrored. True when the batch being collected is full (flush it).
  bool add(const std::string& entry);
  // Mirrored entries the worker could not use (not JSON objects, too long).
  void addDropped(uint64_t count) { dropped_ += count; }
  // The entries collected since the last batch, as one, kept until acknowledged; nothing if
  // there are none.
  std::optional<msg::TranscriptAppend> takeBatch(const std::string& session, uint64_t generation);
  // The whole conversation as `lines` (its transcript file): positions start over at 1,
  // batches to send, the first marked as a snapshot.
  std::vector<msg::TranscriptAppend> snapshot(const std::vector<std::string>& lines,
                                              const std::string& session, uint64_t generation);
  // The broker holds entries up to `upto` of `conversation_id`.
  void acknowledge(const std::string& conversation_id, uint64_t upto);
  // Every entry sent and not acknowledged, as batches, to send again.
  std::vector<msg::TranscriptAppend> unacknowledged(const std::string& session,
                                                    uint64_t generation) const;

  // The position of the last entry mirrored (0: none).
  uint64_t position() const { return position_; }
  // A broker holding entries up to `upto` lacks some this mirror can no longer send again
  // (forgotten for the bound, or acknowledged by a broker that lost them).
  bool cannotFill(uint64_t upto) const { return upto + 1 < retained_first_; }
  const std::string& conversationId() const { return conversation_id_; }
  // Bytes kept for a resend.
  std::size_t retainedBytes() const { return retained_bytes_; }
  // Entries forgotten unacknowledged for the bound, since begin().
  uint64_t forgotten() const { return forgotten_; }

 private:
  std::size_t retain_bytes_;             // most unacknowledged bytes kept
  std::string conversation_id_;          // the conversation the positions count in
  uint64_t position_ = 0;                // last position given out
  std::vector<std::string> collecting_;  // entries of the next batch
  std::size_t collecting_bytes_ = 0;     // their bytes
  uint64_t dropped_ = 0;                 // unusable entries since the last batch
  std::deque<std::string> retained_;     // sent, not acknowledged, oldest first
  uint64_t retained_first_ = 1;          // the position of retained_.front()
  std::size_t retained_bytes_ = 0;       // their bytes
  uint64_t forgotten_ = 0;               // dropped from retained_ for the bound
};

}  // namespace ccmesh::worker
