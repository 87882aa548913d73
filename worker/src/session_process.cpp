// Session: the life of its CLI process: spawn, exit, crash and backoff, restart, stop.
#include <algorithm>

#include "ccmesh/common/uuid.hpp"
#include "ccmesh/worker/cli_messages.hpp"
#include "ccmesh/worker/session.hpp"

namespace ccmesh::worker {
namespace {

// How much output a dead CLI may still have buffered that we read before handling its exit.
constexpr std::size_t kExitDrainBytes = 64u << 20;

}  // namespace

void Session::spawn(ConversationStart start) {
  if (copy_due_) return;  // waits for the broker's copy of its conversation
  if (start == ConversationStart::kFork) {
    // A fork that ran no turn forks again, under an id no CLI has used.
    if (fork_id_used_) beginConversation(randomUuid(), 0);
    fork_id_used_ = true;
  }
  auto command = CliCommand::build(context_.cli, options_, start, conversation_id_,
                                   context_.base_env, fork_from_);
  if (start == ConversationStart::kResume && !seed_ && localCopyShort(command)) {
    fetchBrokerCopy();
    return;
  }
  if (seed_ && !writeSeed(command)) return;
  auto started = CliProcess::start(command, context_.max_line_bytes);
  if (!started) {
    const std::string why = "cannot start CLI " + context_.cli.program + ": " + started.error();
    context_.log->error("[session {}] {}", name_, why);
    for (uint64_t id : spawn_acks_) replyError(id, ErrorCode::kInternal, why);
    spawn_acks_.clear();
    becomeFailed(why);
    return;
  }
  process_ = std::move(*started);
  cli_cost_usd_ = 0;
  context_.meter->onCliSpawned();
  spawned_at_ = now();
  rss_kb_ = 0;
  reported_rss_kb_ = 0;
  recycle_due_ = false;
  next_probe_ = now() + context_.rss_probe_interval;
  initialized_ = false;
  init_deadline_ = now() + context_.initialize_timeout;
  draining_ = false;
  kill_reason_.clear();
  stderr_tail_.clear();
  process_->send(cli_messages::initializeRequest(cli_messages::kInitRequestId));
  context_.log->info("[session {}] started CLI pid {} ({}={}{})", name_, process_->pid(),
                     start == ConversationStart::kResume ? "--resume" : "--session-id",
                     conversation_id_,
                     start == ConversationStart::kFork ? ", forking " + fork_from_ : "");
  setState(SessionState::kStarting);
  sendAcks(spawn_acks_);
}

void Session::onChildExited() {
  if (process_ && process_->tryReap()) onExit();
}

void Session::drainOutput() {
  // The CLI is gone but its last lines (perhaps the result) may still sit in the pipes.
  for (std::size_t total = 0; total < kExitDrainBytes; total += 1u << 20) {
    const auto status = process_->readOutput(1u << 20);
    handleLines();
    if (status != LineReader::ReadStatus::kData) break;
  }
  std::string line;
  if (process_->outputLines().takeRemainder(line)) handleEvent(parser_.parse(line));
  flushMirror();  // what it wrote before it died reaches the broker before anything else
  process_->readErrors(1u << 20);
  handleErrorLines();
  if (process_->errorLines().takeRemainder(line)) noteErrorLine(line);
}

void Session::onExit() {
  drainOutput();
  if (!process_) return;
  const std::string status = process_->describeExit();
  const int code = process_->exitCode();
  context_.log->info("[session {}] CLI pid {} exited ({})", name_, process_->pid(), status);
  process_.reset();
  failControls("session " + name_ + ": its CLI exited (" + status + ") before it answered");
  if (state_ == SessionState::kStopping) {
    finishStop();
  } else if (respawn_) {
    // The new CLI takes over the live slot of the old one.
    const ConversationStart start = *respawn_;
    respawn_.reset();
    if (recycling_) {
      ++recycles_;
      context_.meter->onCliRecycled();
    } else {
      ++restarts_;
    }
    recycling_ = false;
    spawn(start);
  } else if (state_ == SessionState::kHibernating) {
    finishHibernation();
  } else {
    observer_.onLiveSlotReleased(*this);
    onCrash(status, code);
  }
}

void Session::onCrash(const std::string& exit_status, int exit_code) {
  std::string why = kill_reason_.empty() ? "CLI exited unexpectedly (" + exit_status + ")"
                                         : kill_reason_ + " (" + exit_status + ")";
  if (!stderr_tail_.empty()) {
    why += "; stderr:";
    for (const auto& line : stderr_tail_) why += " " + line;
  }
  last_error_ = why;
  context_.log->warn("[session {}] {}", name_, why);
  context_.meter->onCliCrashed();
  failRunning(ErrorCode::kSessionCrashed, why);
  draining_ = false;
  if (!initialized_ && exit_code == 127) {
    becomeFailed("cannot start CLI " + context_.cli.program + ": " + why);
    return;
  }
  if (!initialized_ && has_history_ && conversation_id_ != options_.resume &&
      std::any_of(stderr_tail_.begin(), stderr_tail_.end(), [](const std::string& line) {
        return line.find("No conversation found") != std::string::npos;
      })) {
    // The conversation was never saved here (its first CLI died before writing it, or it
    // ran on another machine): resuming it would fail the same way every time. Start it
    // afresh under the same id instead (a resume the user asked for is left to fail).
    context_.log->warn("[session {}] conversation {} not found on this worker: starting it afresh",
                       name_, conversation_id_);
    has_history_ = false;
    if (transcript_.position() > 0 || !context_.cli.session_mirror) {
      // It had turns, and no copy of them is to be had: say so rather than answer from an
      // empty history as if nothing were missing.
      holdCut("conversation " + conversation_id_ +
              " could not be resumed: the CLI found no transcript of it on this worker; a new "
              "one began");
    }
  }
  const TimePoint t = now();
  crashes_.push_back(t);
  while (!crashes_.empty() && crashes_.front() + Millis(options_.restart_window_ms) < t) {
    crashes_.pop_front();
  }
  if (crashes_.size() > options_.max_restarts) {
    becomeFailed("restarted more than " + std::to_string(options_.max_restarts) + " times in " +
                 std::to_string(options_.restart_window_ms) + " ms; last: " + why);
    return;
  }
  Millis backoff = context_.restart_backoff_min;
  for (std::size_t i = 1; i < crashes_.size() && backoff < context_.restart_backoff_max; ++i) {
    backoff *= 2;
  }
  backoff = std::min(backoff, context_.restart_backoff_max);
  restart_at_ = t + backoff;
  context_.log->info("[session {}] restarting in {} ms", name_, backoff.count());
  setState(SessionState::kRestarting);
}

void Session::becomeFailed(const std::string& why) {
  last_error_ = why;
  copy_due_.reset();
  restart_at_.reset();
  respawn_.reset();
  recycling_ = false;
  withdrawSlot();
  failRunning(ErrorCode::kSessionFailed, "session " + name_ + " failed: " + why);
  failQueued(ErrorCode::kSessionFailed, "session " + name_ + " failed: " + why);
  setState(SessionState::kFailed);
}

void Session::terminate(uint64_t ack_id, const std::string& reason) {
  if (state_ == SessionState::kStopped) {
    std::vector<uint64_t> ids{ack_id};
    sendAcks(ids);
    return;
  }
  if (ack_id != 0) stop_acks_.push_back(ack_id);
  if (state_ == SessionState::kStopping) return;
  const bool in_turn = running_ || draining_;
  failRunning(ErrorCode::kCancelled, reason);
  failQueued(ErrorCode::kCancelled, reason);
  for (uint64_t id : spawn_acks_) replyError(id, ErrorCode::kCancelled, reason);
  spawn_acks_.clear();
  draining_ = false;
  respawn_.reset();
  restart_at_.reset();
  copy_due_.reset();
  setState(SessionState::kStopping);
  if (!process_) {
    finishStop();
    return;
  }
  if (in_turn) {
    process_->send(cli_messages::interruptRequest("int_" + std::to_string(++control_counter_)));
  }
  process_->beginStop(now(), context_.stop_grace);
}

void Session::finishStop() {
  withdrawSlot();
  setState(SessionState::kStopped);
  sendAcks(stop_acks_);
}

void Session::restart(uint64_t ack_id, bool keep_history, bool from_cut) {
  if (state_ == SessionState::kStopping || state_ == SessionState::kStopped) {
    replyError(ack_id, ErrorCode::kNotFound, "session " + name_ + " is stopping");
    return;
  }
  if (ack_id != 0) spawn_acks_.push_back(ack_id);
  const bool in_turn = running_ || draining_;
  failRunning(ErrorCode::kCancelled, "session restarted");
  draining_ = false;
  const bool was_failed = state_ == SessionState::kFailed;
  if (was_failed) {
    crashes_.clear();
    restarts_ = 0;
  }
  ConversationStart start = ConversationStart::kNew;
  if (from_cut) cut_.clear();  // the client takes what is left as its history
  copy_due_.reset();
  if (keep_history && has_history_) {
    start = resumeOrNew();
  } else if (!keep_history) {
    beginConversation(randomUuid(), 0);
    has_history_ = false;
    fork_from_.clear();
    seed_.reset();
    cut_.clear();
  }
  recycling_ = false;
  if (!process_ && state_ == SessionState::kHibernated) {
    // Nothing runs: the next CLI starts (with the conversation chosen here) when needed.
    if (waitingForSlot()) start_when_granted_ = start;
    sendAcks(spawn_acks_);
    return;
  }
  if (process_) {
    respawn_ = start;
    if (in_turn) {
      process_->send(cli_messages::interruptRequest("int_" + std::to_string(++control_counter_)));
    }
    process_->beginStop(now(), context_.stop_grace);
    setState(SessionState::kRestarting);
    return;
  }
  restart_at_.reset();
  if (!was_failed) ++restarts_;
  if (waitingForSlot()) {
    start_when_granted_ = start;  // already waiting for a live slot
    slot_for_queue_ = false;
    sendAcks(spawn_acks_);
    return;
  }
  if (was_failed) setState(SessionState::kRestarting);
  needProcess(start, false);
}

void Session::requestRespawn(ConversationStart start) {
  respawn_ = start;
  if (process_) process_->killGroup();
  setState(SessionState::kRestarting);
}

void Session::kill() {
  if (process_) process_->killGroup();
}

}  // namespace ccmesh::worker
