// Session: the transcript the broker keeps of its conversation (docs/SESSIONS.md "What
// survives which failure"). Entries the CLI mirrors go to the broker numbered by position and
// are kept until acknowledged; a transcript the broker sent is written before the CLI
// resumes from it; a CLI that cannot resume from this worker's disk gets the broker's copy
// first; a conversation with entries missing says so instead of answering.
#include <fstream>

#include "ccmesh/common/uuid.hpp"
#include "ccmesh/worker/conversation_file.hpp"
#include "ccmesh/worker/session.hpp"

namespace ccmesh::worker {
namespace {

// How long to wait for the broker's copy of a conversation before asking again.
constexpr Millis kCopyRetry{2000};

// Lines of a JSONL text.
uint64_t countLines(const std::string& jsonl) {
  uint64_t lines = 0;
  for (char c : jsonl) lines += c == '\n' ? 1 : 0;
  if (!jsonl.empty() && jsonl.back() != '\n') ++lines;
  return lines;
}

// Lines of the file at `path`, counted up to `at_most`; 0 if it cannot be read.
uint64_t linesIn(const std::filesystem::path& path, uint64_t at_most) {
  std::ifstream in(path, std::ios::binary);
  uint64_t lines = 0;
  std::string line;
  while (lines < at_most && std::getline(in, line)) ++lines;
  return lines;
}

// A transcript line the broker takes as an entry: one JSON object within the entry bound.
bool usableEntry(const std::string& line) {
  return line.size() >= 2 && line.front() == '{' && line.back() == '}' &&
         line.size() <= msg::TranscriptAppend::kMaxEntryBytes;
}

}  // namespace

std::filesystem::path Session::localTranscriptPath() const {
  const auto command = CliCommand::build(context_.cli, options_, ConversationStart::kResume,
                                         conversation_id_, context_.base_env);
  return ConversationFile::pathFor(command.env, command.cwd, conversation_id_);
}

void Session::seedConversation(std::string session_id, std::string transcript) {
  conversation_id_ = std::move(session_id);
  transcript_.begin(conversation_id_, countLines(transcript));
  seed_ = std::move(transcript);
}

void Session::forkConversation(std::string session_id, std::string transcript) {
  fork_from_ = std::move(session_id);
  fork_id_used_ = false;
  beginConversation(randomUuid(), 0);  // the CLI mirrors the history again, under this id
  seed_ = std::move(transcript);
}

void Session::holdCut(const std::string& why) {
  if (why.empty() || why == cut_) return;
  cut_ = why;
  context_.log->warn("[session {}] {}: its queries get conversation_incomplete until a restart",
                     name_, why);
  notify();
}

void Session::beginConversation(std::string id, uint64_t entries) {
  conversation_id_ = std::move(id);
  transcript_.begin(conversation_id_, entries);
}

void Session::mirror(const CliEvent& event) {
  if (event.bad_entries > 0) {
    transcript_.addDropped(event.bad_entries);
    mirror_rejects_ += event.bad_entries;
    if (mirror_rejects_ <= 5 || mirror_rejects_ % 1000 == 0) {
      context_.log->warn(
          "[session {}] dropped {} mirrored transcript entr(ies) that were not JSON objects or "
          "longer than {} bytes ({} so far)",
          name_, event.bad_entries, msg::TranscriptAppend::kMaxEntryBytes, mirror_rejects_);
    }
  }
  for (const auto& entry : event.entries) {
    if (transcript_.add(entry)) flushMirror();
  }
}

void Session::flushMirror() {
  const uint64_t forgotten = transcript_.forgotten();
  auto batch = transcript_.takeBatch(name_, generation_);
  if (!batch) return;
  if (transcript_.forgotten() > forgotten) {
    context_.log->warn(
        "[session {}] more than {} bytes of transcript unacknowledged by the broker: forgot "
        "the oldest ({} so far); if the broker lost them, its copy is cut there",
        name_, context_.transcript_retain_bytes, transcript_.forgotten());
  }
  observer_.onTranscript(std::move(*batch));
}

void Session::onTranscriptAck(const msg::TranscriptAck& ack) {
  if (ack.session_id != conversation_id_) return;
  transcript_.acknowledge(ack.session_id, ack.upto);
  if (transcript_.cannotFill(ack.upto) && snapshot_sent_at_ != transcript_.position()) {
    snapshot_due_ = true;
    sendSnapshot();
  }
}

void Session::sendSnapshot() {
  if (!snapshot_due_ || !context_.cli.session_mirror) return;
  // Between turns (or with no CLI) the file holds exactly what was mirrored, so positions
  // can start over from it.
  if (process_ && !betweenTurns()) return;
  snapshot_due_ = false;
  const auto path = localTranscriptPath();
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!usableEntry(line)) {
      lines.clear();  // not a faithful copy: the broker's stays cut, and says so
      break;
    }
    lines.push_back(std::move(line));
  }
  if (lines.size() < transcript_.position()) {
    context_.log->warn(
        "[session {}] the broker lacks entries of conversation {} and {} holds only {} of "
        "its {}: the broker's copy stays cut",
        name_, conversation_id_, path.string(), lines.size(), transcript_.position());
    snapshot_sent_at_ = transcript_.position();
    return;
  }
  context_.log->info(
      "[session {}] the broker lacks entries of conversation {}: sending its transcript from "
      "{} ({} entries)",
      name_, conversation_id_, path.string(), lines.size());
  for (auto& batch : transcript_.snapshot(lines, name_, generation_)) {
    observer_.onTranscript(std::move(batch));
  }
  snapshot_sent_at_ = transcript_.position();
}

void Session::resendTranscript() {
  for (auto& batch : transcript_.unacknowledged(name_, generation_)) {
    observer_.onTranscript(std::move(batch));
  }
}

void Session::mirrorLocalTranscript() {
  if (!context_.cli.session_mirror) return;
  std::ifstream in(localTranscriptPath(), std::ios::binary);
  std::string line;
  uint64_t skipped = 0;
  while (std::getline(in, line)) {
    if (!usableEntry(line)) {
      ++skipped;
      continue;
    }
    if (transcript_.add(line)) flushMirror();
  }
  transcript_.addDropped(skipped);
  flushMirror();
}

bool Session::localCopyShort(const CliCommand& command) const {
  if (!context_.cli.session_mirror || transcript_.position() == 0) return false;
  const auto path = ConversationFile::pathFor(command.env, command.cwd, conversation_id_);
  return linesIn(path, transcript_.position()) < transcript_.position();
}

void Session::fetchBrokerCopy() {
  if (!copy_due_) {
    context_.log->warn(
        "[session {}] the transcript of conversation {} on this worker holds fewer than its {} "
        "mirrored entries: asking the broker for its copy before resuming",
        name_, conversation_id_, transcript_.position());
  }
  copy_due_ = now() + kCopyRetry;
  observer_.onTranscriptFetch(
      msg::TranscriptFetch{name_, generation_, conversation_id_, transcript_.position()});
}

void Session::onTranscriptSeed(const msg::TranscriptSeed& seed) {
  if (!copy_due_ || seed.session_id != conversation_id_) return;
  copy_due_.reset();
  if (seed.entries > 0) {
    seed_ = seed.transcript;
    transcript_.begin(conversation_id_, seed.entries);
  } else {
    // Nothing to resume from anywhere: a new conversation, which says it was cut.
    beginConversation(randomUuid(), 0);
    has_history_ = false;
  }
  holdCut(seed.cut);
  if (state_ == SessionState::kStopping || state_ == SessionState::kStopped ||
      state_ == SessionState::kFailed) {
    return;
  }
  if (process_) return;
  // The spawn that waited for the copy: the live slot is still held.
  spawn(resumeOrNew());
}

bool Session::writeSeed(const CliCommand& command) {
  // A fork's seed is the conversation it forks, read by --resume=<that id>.
  const auto& seed_id = fork_from_.empty() ? conversation_id_ : fork_from_;
  const auto path = ConversationFile::pathFor(command.env, command.cwd, seed_id);
  const uint64_t seed_lines = countLines(*seed_);
  if (!fork_from_.empty() && linesIn(path, seed_lines) >= seed_lines) {
    // The forked session's own CLI keeps that file here, and may be writing it: leave it.
    seed_.reset();
    return true;
  }
  if (auto error = ConversationFile::write(path, *seed_)) {
    const std::string why = "cannot write the transcript it brought: " + *error;
    context_.log->error("[session {}] {}", name_, why);
    for (uint64_t id : spawn_acks_) replyError(id, ErrorCode::kInternal, why);
    spawn_acks_.clear();
    becomeFailed(why);
    return false;
  }
  context_.log->info("[session {}] wrote its transcript ({} bytes) to {}", name_, seed_->size(),
                     path.string());
  seed_.reset();
  return true;
}

}  // namespace ccmesh::worker
