#include "ccmesh/broker/transcript_store.hpp"

#include <algorithm>
#include <chrono>

#include "transcript_files.hpp"

namespace ccmesh::broker {

TranscriptStore::TranscriptStore(TranscriptLimits limits, const std::string& data_dir,
                                 std::shared_ptr<spdlog::logger> log)
    : limits_(limits), log_(std::move(log)), data_dir_(data_dir) {}

TranscriptStore::~TranscriptStore() = default;

std::string Transcript::cutReason() const {
  if (complete()) return {};
  std::string why = "conversation " + session_id + " was cut: the broker holds ";
  if (count == 0) {
    why += "none of its entries";
  } else {
    why += "entries " + std::to_string(base + 1) + ".." + std::to_string(held());
  }
  if (known > held()) why += " of " + std::to_string(known);
  if (!gap.empty()) why += " (" + gap + ")";
  return why;
}

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
    transcript.base = contents->base;
    transcript.dropped = contents->base;
    transcript.file_bytes = contents->file_bytes;
    for (auto& entry : contents->entries) {
      transcript.bytes += entry.size() + 1;
      transcript.entries.push_back(std::move(entry));
    }
    transcript.count = transcript.entries.size();
    transcript.durable = transcript.held();
    transcript.known = transcript.held();
    if (transcript.base > 0) {
      transcript.gap = "entries 1.." + std::to_string(transcript.base) + " are not in its file";
    }
    if (!contents->damage.empty()) {
      // Entries after the last whole one existed: the copy is incomplete until the worker
      // sends them again (it keeps what was never acknowledged).
      ++stats_.damaged_files;
      transcript.known = transcript.held() + 1;
      transcript.gap = "its file ended in " + contents->damage;
      log_->warn(
          "[session {}] {} ended in {}: kept {} whole entr(ies); it is incomplete until "
          "its worker sends the rest",
          contents->session, path.string(), contents->damage, transcript.count);
    }
    std::error_code error;
    const auto written = std::filesystem::last_write_time(path, error);
    if (!error) {
      const auto system = std::chrono::file_clock::to_sys(written);
      transcript.last_entry_ms = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(system.time_since_epoch()).count());
    }
    resident_bytes_ += transcript.bytes;
    touch(contents->session);
    // A damaged end, entries past the bound, an older format: start the file clean.
    if (contents->rewrite && !rewriteFile(contents->session, transcript)) {
      transcript.file_stale = true;
    }
    fitTotal(contents->session);
    ++loaded;
  }
  log_->info("{} transcript(s) read from {}", loaded, data_dir_);
}

uint64_t TranscriptStore::append(const std::string& session, const std::string& session_id,
                                 uint64_t first, std::vector<std::string> entries, uint64_t now_ms,
                                 bool snapshot) {
  auto [it, created] = transcripts_.try_emplace(session);
  Transcript& transcript = it->second;
  const bool restart = created || transcript.session_id != session_id || snapshot;
  if (restart) {
    const uint64_t known = transcript.session_id == session_id ? transcript.known : 0;
    if (snapshot) {
      log_->info("[session {}] its worker sent the whole conversation {} from its disk", session,
                 session_id);
    } else if (!created) {
      log_->info("[session {}] a new conversation ({}): its transcript starts over", session,
                 session_id);
    }
    if (transcript.resident) resident_bytes_ -= transcript.bytes;
    transcript = Transcript{};
    transcript.session_id = session_id;
    transcript.known = known;
    // Entries that begin after position 1: the start of this conversation never came.
    if (first > 1) {
      transcript.base = first - 1;
      transcript.gap = "entries 1.." + std::to_string(first - 1) + " never reached this broker";
    }
  } else if (!transcript.resident) {
    get(session);  // read back before appending, so memory and file stay alike
  }
  touch(session);
  if (first == 0) first = transcript.held() + 1;
  if (!entries.empty()) {
    transcript.known = std::max(transcript.known, first + entries.size() - 1);
  }
  if (first > transcript.held() + 1) {
    // A hole: storing these would make a conversation with turns missing.
    ++stats_.gaps;
    transcript.gap = "entries " + std::to_string(transcript.held() + 1) + ".." +
                     std::to_string(first - 1) + " never reached this broker";
    return transcript.ackable();
  }
  const uint64_t already = std::min<uint64_t>(transcript.held() + 1 - first, entries.size());
  stats_.duplicates += already;
  const uint64_t fresh = transcript.held() + 1;  // the position of the first new entry
  for (auto entry = entries.begin() + static_cast<long>(already); entry != entries.end(); ++entry) {
    transcript.bytes += entry->size() + 1;
    resident_bytes_ += entry->size() + 1;
    ++transcript.count;
    transcript.entries.push_back(std::move(*entry));
  }
  if (already < entries.size()) transcript.last_entry_ms = now_ms;
  trim(session, transcript);
  persist(session, transcript, fresh, restart);
  fitTotal(session);
  return transcript.ackable();
}

void TranscriptStore::noteKnown(const std::string& session, const std::string& session_id,
                                uint64_t position) {
  if (session_id.empty()) return;
  auto it = transcripts_.find(session);
  if (it == transcripts_.end()) {
    if (position == 0) return;
    Transcript& transcript = transcripts_[session];
    transcript.session_id = session_id;
    transcript.known = position;
    transcript.gap = "entries 1.." + std::to_string(position) + " never reached this broker";
    touch(session);
    return;
  }
  Transcript& transcript = it->second;
  if (transcript.session_id != session_id) {
    // The session runs another conversation now: the one kept is no longer its history.
    if (transcript.resident) resident_bytes_ -= transcript.bytes;
    transcript = Transcript{};
    transcript.session_id = session_id;
    transcript.known = position;
    if (position > 0) {
      transcript.gap = "entries 1.." + std::to_string(position) + " never reached this broker";
    }
    if (files_) files_->remove(session);
    touch(session);
    return;
  }
  transcript.known = std::max(transcript.known, position);
}

void TranscriptStore::persist(const std::string& session, Transcript& transcript, uint64_t fresh,
                              bool whole) {
  if (!files_) {
    transcript.durable = transcript.held();
    return;
  }
  std::optional<std::string> error;
  if (whole || transcript.file_stale || transcript.file_bytes == 0 ||
      transcript.file_bytes > 2 * limits_.max_session_bytes + (64u << 10) ||
      fresh <= transcript.base) {
    // A new file (also for a copy a worker's report began: no file, no header yet), a file
    // that missed entries, compaction of dropped entries, or new entries already trimmed
    // away: write it anew from memory.
    if (!rewriteFile(session, transcript)) return;
  } else if (fresh <= transcript.held()) {
    const auto from = transcript.entries.end() - static_cast<long>(transcript.held() + 1 - fresh);
    std::vector<std::string> tail(from, transcript.entries.end());
    error = files_->append(session, fresh, tail, transcript.file_bytes);
    if (error) {
      // The file may now end in a torn record: never append after it, rewrite it whole.
      transcript.file_stale = true;
      writeFailed(session, *error);
      return;
    }
  }
  failing_writes_ = 0;
  transcript.durable = transcript.held();
}

void TranscriptStore::writeFailed(const std::string& session, const std::string& why) {
  ++stats_.write_errors;
  ++failing_writes_;
  const uint64_t n = failing_writes_;
  if (n == 1 || n == 10 || n == 100 || n % 1000 == 0) {
    log_->error(
        "[session {}] transcript not stored on disk: {} ({} write error(s) in a row, {} in all); "
        "its entries stay unacknowledged, so its worker keeps them",
        session, why, n, stats_.write_errors);
  }
}

void TranscriptStore::trim(const std::string& session, Transcript& transcript) {
  uint64_t dropped = 0;
  while (transcript.bytes > limits_.max_session_bytes && !transcript.entries.empty()) {
    const std::size_t size = transcript.entries.front().size() + 1;
    transcript.bytes -= size;
    resident_bytes_ -= size;
    transcript.entries.pop_front();
    --transcript.count;
    ++transcript.base;
    ++dropped;
  }
  if (dropped == 0) return;
  if (transcript.dropped == 0 ||
      (transcript.dropped + dropped) / 1000 > transcript.dropped / 1000) {
    log_->warn(
        "[session {}] transcript over --transcript-max-bytes ({}): dropped its {} oldest "
        "entr(ies), {} so far; a move resumes it cut (conversation_incomplete until accepted)",
        session, limits_.max_session_bytes, dropped, transcript.dropped + dropped);
  }
  transcript.dropped += dropped;
  stats_.dropped_entries += dropped;
  transcript.gap = "its oldest " + std::to_string(transcript.base) +
                   " entr(ies) were dropped for --transcript-max-bytes";
}

const Transcript* TranscriptStore::get(const std::string& session) {
  auto it = transcripts_.find(session);
  if (it == transcripts_.end()) return nullptr;
  Transcript& transcript = it->second;
  if (!transcript.resident && files_) {
    auto contents = files_->readSession(session, limits_.max_session_bytes);
    if (contents && contents->session == session && contents->base == transcript.base &&
        contents->entries.size() == transcript.count) {
      transcript.entries.assign(std::make_move_iterator(contents->entries.begin()),
                                std::make_move_iterator(contents->entries.end()));
      transcript.file_bytes = contents->file_bytes;
    } else {
      ++stats_.write_errors;
      log_->error("[session {}] cannot read its transcript back from {} whole", session,
                  files_->pathOf(session).string());
      transcript.entries.clear();
      transcript.gap = "its file could not be read back";
      transcript.known = std::max(transcript.known, transcript.held());
      transcript.base = transcript.known;
      transcript.durable = std::min(transcript.durable, transcript.base);
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

void TranscriptStore::acceptCut(const std::string& session) {
  auto it = transcripts_.find(session);
  if (it == transcripts_.end()) return;
  Transcript& transcript = it->second;
  transcript.known = transcript.held();
  transcript.cut_accepted = true;
  transcript.gap.clear();
}

void TranscriptStore::continueFrom(const std::string& session) {
  auto it = transcripts_.find(session);
  if (it == transcripts_.end()) return;
  Transcript& transcript = it->second;
  const bool renumber = transcript.base > 0;
  transcript.base = 0;
  transcript.dropped = 0;
  transcript.known = transcript.count;
  transcript.gap.clear();
  if (renumber && transcript.resident) {
    persist(session, transcript, 1, true);  // positions on disk start over too
  } else {
    transcript.durable = std::min(transcript.durable, transcript.held());
  }
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
    if (auto stale = transcripts_.find(victim);
        stale != transcripts_.end() && stale->second.file_stale) {
      break;  // its file lacks entries: memory is their only copy (the disk is failing)
    }
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

bool TranscriptStore::rewriteFile(const std::string& session, Transcript& transcript) {
  if (!files_) return true;
  if (auto error = files_->rewrite(session, transcript.session_id, transcript.base,
                                   transcript.entries, transcript.file_bytes)) {
    transcript.file_stale = true;
    writeFailed(session, *error);
    return false;
  }
  transcript.file_stale = false;
  return true;
}

}  // namespace ccmesh::broker
