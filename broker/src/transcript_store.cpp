#include "ccmesh/broker/transcript_store.hpp"

#include <algorithm>
#include <chrono>

#include "transcript_files.hpp"

namespace ccmesh::broker {

TranscriptStore::TranscriptStore(TranscriptLimits limits, const std::string& data_dir,
                                 std::shared_ptr<spdlog::logger> log)
    : limits_(limits), log_(std::move(log)), data_dir_(data_dir) {}

TranscriptStore::~TranscriptStore() = default;

void TranscriptStore::load() {
  if (data_dir_.empty()) return;
  files_ = std::make_unique<TranscriptFiles>(data_dir_);
  std::size_t loaded = 0;
  for (const auto& path : files_->list()) {
    auto contents = files_->read(path, limits_.max_session_bytes);
    if (!contents || files_->pathOf(contents->session) != path) {
      log_->warn("ignoring {}: not a transcript file of this broker", path.string());
      continue;
    }
    Transcript& transcript = transcripts_[contents->session];
    transcript.session_id = contents->session_id;
    transcript.dropped = contents->dropped;
    transcript.file_bytes = contents->file_bytes;
    for (auto& entry : contents->entries) {
      transcript.bytes += entry.size() + 1;
      transcript.entries.push_back(std::move(entry));
    }
    transcript.count = transcript.entries.size();
    std::error_code error;
    const auto written = std::filesystem::last_write_time(path, error);
    if (!error) {
      const auto system = std::chrono::file_clock::to_sys(written);
      transcript.last_entry_ms = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(system.time_since_epoch()).count());
    }
    resident_bytes_ += transcript.bytes;
    touch(contents->session);
    // A torn last line, or entries past the bound: start the file clean.
    if (contents->damaged || contents->dropped > 0) rewriteFile(contents->session, transcript);
    fitTotal(contents->session);
    ++loaded;
  }
  log_->info("{} transcript(s) read from {}", loaded, data_dir_);
}

void TranscriptStore::append(const std::string& session, const std::string& session_id,
                             std::vector<std::string> entries, uint64_t now_ms) {
  auto [it, created] = transcripts_.try_emplace(session);
  Transcript& transcript = it->second;
  const bool restart = created || transcript.session_id != session_id;
  if (restart) {
    if (!created) {
      log_->info("[session {}] a new conversation ({}): its transcript starts over", session,
                 session_id);
    }
    if (transcript.resident) resident_bytes_ -= transcript.bytes;
    transcript = Transcript{};
    transcript.session_id = session_id;
  } else if (!transcript.resident) {
    get(session);  // read back before appending, so memory and file stay alike
  }
  touch(session);
  for (auto& entry : entries) {
    transcript.bytes += entry.size() + 1;
    resident_bytes_ += entry.size() + 1;
    ++transcript.count;
    transcript.entries.push_back(std::move(entry));
  }
  transcript.last_entry_ms = now_ms;
  trim(session, transcript);
  if (files_) {
    if (restart || transcript.file_bytes > 2 * limits_.max_session_bytes + (64u << 10)) {
      rewriteFile(session, transcript);  // a new file, or compaction of dropped entries
    } else {
      // The entries that came now and survived trimming are the newest ones.
      const std::size_t fresh = std::min(entries.size(), transcript.entries.size());
      std::vector<std::string> tail(transcript.entries.end() - static_cast<long>(fresh),
                                    transcript.entries.end());
      if (!tail.empty() && !files_->append(session, tail, transcript.file_bytes)) {
        ++stats_.write_errors;
        log_->error("[session {}] cannot append to its transcript file {}", session,
                    files_->pathOf(session).string());
      }
    }
  }
  fitTotal(session);
}

void TranscriptStore::trim(const std::string& session, Transcript& transcript) {
  uint64_t dropped = 0;
  while (transcript.bytes > limits_.max_session_bytes && !transcript.entries.empty()) {
    const std::size_t size = transcript.entries.front().size() + 1;
    transcript.bytes -= size;
    resident_bytes_ -= size;
    transcript.entries.pop_front();
    --transcript.count;
    ++dropped;
  }
  if (dropped == 0) return;
  if (transcript.dropped == 0 ||
      (transcript.dropped + dropped) / 1000 > transcript.dropped / 1000) {
    log_->warn(
        "[session {}] transcript over --transcript-max-bytes ({}): dropped its {} oldest "
        "entr(ies), {} so far; a move resumes it without them",
        session, limits_.max_session_bytes, dropped, transcript.dropped + dropped);
  }
  transcript.dropped += dropped;
  stats_.dropped_entries += dropped;
}

const Transcript* TranscriptStore::get(const std::string& session) {
  auto it = transcripts_.find(session);
  if (it == transcripts_.end()) return nullptr;
  Transcript& transcript = it->second;
  if (!transcript.resident && files_) {
    auto contents = files_->readSession(session, limits_.max_session_bytes);
    if (contents && contents->session == session) {
      transcript.entries.assign(std::make_move_iterator(contents->entries.begin()),
                                std::make_move_iterator(contents->entries.end()));
      transcript.file_bytes = contents->file_bytes;
    } else {
      ++stats_.write_errors;
      log_->error("[session {}] cannot read its transcript back from {}", session,
                  files_->pathOf(session).string());
      transcript.entries.clear();
    }
    transcript.bytes = 0;
    for (const auto& entry : transcript.entries) transcript.bytes += entry.size() + 1;
    transcript.count = transcript.entries.size();
    transcript.resident = true;
    resident_bytes_ += transcript.bytes;
  }
  touch(session);
  fitTotal(session);
  return &transcript;
}

const Transcript* TranscriptStore::peek(const std::string& session) const {
  auto it = transcripts_.find(session);
  return it == transcripts_.end() ? nullptr : &it->second;
}

void TranscriptStore::remove(const std::string& session) {
  auto it = transcripts_.find(session);
  if (it == transcripts_.end()) return;
  if (it->second.resident) resident_bytes_ -= it->second.bytes;
  if (auto at = lru_at_.find(session); at != lru_at_.end()) {
    lru_.erase(at->second);
    lru_at_.erase(at);
  }
  transcripts_.erase(it);
  if (files_) files_->remove(session);
}

std::string TranscriptStore::jsonl(const Transcript& transcript) {
  std::string text;
  text.reserve(transcript.bytes);
  for (const auto& entry : transcript.entries) {
    text += entry;
    text += '\n';
  }
  return text;
}

void TranscriptStore::touch(const std::string& session) {
  if (auto at = lru_at_.find(session); at != lru_at_.end()) {
    lru_.splice(lru_.end(), lru_, at->second);
    return;
  }
  lru_at_[session] = lru_.insert(lru_.end(), session);
}

void TranscriptStore::fitTotal(const std::string& keep) {
  while (resident_bytes_ > limits_.max_total_bytes && !lru_.empty() && lru_.front() != keep) {
    const std::string victim = lru_.front();
    lru_.pop_front();
    lru_at_.erase(victim);
    auto it = transcripts_.find(victim);
    if (it == transcripts_.end()) continue;
    Transcript& transcript = it->second;
    resident_bytes_ -= transcript.bytes;
    ++stats_.evictions;
    if (files_) {
      log_->warn(
          "[session {}] transcript ({} bytes) left memory for --transcript-total-bytes ({}); "
          "it stays in the data directory",
          victim, transcript.bytes, limits_.max_total_bytes);
      transcript.entries.clear();
      transcript.entries.shrink_to_fit();
      transcript.resident = false;
    } else {
      log_->warn(
          "[session {}] transcript ({} bytes) dropped for --transcript-total-bytes ({}); a move "
          "starts it afresh",
          victim, transcript.bytes, limits_.max_total_bytes);
      transcripts_.erase(it);
    }
  }
}

void TranscriptStore::rewriteFile(const std::string& session, Transcript& transcript) {
  if (!files_) return;
  if (!files_->rewrite(session, transcript.session_id, transcript.entries, transcript.file_bytes)) {
    ++stats_.write_errors;
    log_->error("[session {}] cannot write its transcript file {}", session,
                files_->pathOf(session).string());
  }
}

}  // namespace ccmesh::broker
