#include "ccmesh/worker/transcript_mirror.hpp"

namespace ccmesh::worker {

void TranscriptMirror::begin(const std::string& conversation_id, uint64_t entries) {
  conversation_id_ = conversation_id;
  position_ = entries;
  collecting_.clear();
  collecting_bytes_ = 0;
  retained_.clear();
  retained_first_ = entries + 1;
  retained_bytes_ = 0;
  forgotten_ = 0;
}

bool TranscriptMirror::add(const std::string& entry) {
  collecting_bytes_ += entry.size();
  collecting_.push_back(entry);
  return collecting_bytes_ >= msg::TranscriptAppend::kMaxBatchBytes;
}

std::optional<msg::TranscriptAppend> TranscriptMirror::takeBatch(const std::string& session,
                                                                 uint64_t generation) {
  if (collecting_.empty() && dropped_ == 0) return std::nullopt;
  msg::TranscriptAppend batch;
  batch.session = session;
  batch.generation = generation;
  batch.session_id = conversation_id_;
  batch.first = position_ + 1;
  batch.dropped = dropped_;
  dropped_ = 0;
  for (const auto& entry : collecting_) {
    retained_bytes_ += entry.size();
    retained_.push_back(entry);
  }
  position_ += collecting_.size();
  batch.entries.swap(collecting_);
  collecting_bytes_ = 0;
  while (retained_bytes_ > retain_bytes_ && !retained_.empty()) {
    retained_bytes_ -= retained_.front().size();
    retained_.pop_front();
    ++retained_first_;
    ++forgotten_;
  }
  return batch;
}

std::vector<msg::TranscriptAppend> TranscriptMirror::snapshot(const std::vector<std::string>& lines,
                                                              const std::string& session,
                                                              uint64_t generation) {
  begin(conversation_id_, 0);
  std::vector<msg::TranscriptAppend> batches;
  for (const auto& line : lines) {
    if (add(line)) batches.push_back(*takeBatch(session, generation));
  }
  if (auto last = takeBatch(session, generation)) batches.push_back(std::move(*last));
  if (!batches.empty()) batches.front().snapshot = true;
  return batches;
}

void TranscriptMirror::acknowledge(const std::string& conversation_id, uint64_t upto) {
  if (conversation_id != conversation_id_) return;
  while (!retained_.empty() && retained_first_ <= upto) {
    retained_bytes_ -= retained_.front().size();
    retained_.pop_front();
    ++retained_first_;
  }
  if (retained_.empty() && retained_first_ <= upto) retained_first_ = upto + 1;
}

std::vector<msg::TranscriptAppend> TranscriptMirror::unacknowledged(const std::string& session,
                                                                    uint64_t generation) const {
  std::vector<msg::TranscriptAppend> batches;
  uint64_t position = retained_first_;
  std::size_t bytes = 0;
  for (const auto& entry : retained_) {
    if (batches.empty() || bytes + entry.size() > msg::TranscriptAppend::kMaxBatchBytes) {
      batches.emplace_back();
      batches.back().session = session;
      batches.back().generation = generation;
      batches.back().session_id = conversation_id_;
      batches.back().first = position;
      bytes = 0;
    }
    bytes += entry.size();
    batches.back().entries.push_back(entry);
    ++position;
  }
  return batches;
}

}  // namespace ccmesh::worker
