// Session: its turn queue: prompts taken in, handed to the CLI one at a time, their
// deadlines, cancels and final replies.
#include <algorithm>

#include "ccmesh/worker/cli_messages.hpp"
#include "ccmesh/worker/session.hpp"

namespace ccmesh::worker {
namespace {

// The longest deadline a query may ask for (keeps time arithmetic far from overflow).
constexpr Millis kMaxTimeout{30LL * 24 * 3600 * 1000};

std::string millis(Millis value) { return std::to_string(value.count()) + " ms"; }

}  // namespace

void Session::query(const msg::Query& query) {
  if (!cut_.empty()) {
    replyError(query.id, ErrorCode::kConversationIncomplete,
               "session " + name_ + ": " + cut_ + "; `restart --from-cut` continues from what " +
                   "is left, a restart without it starts afresh");
    return;
  }
  if (state_ == SessionState::kFailed) {
    replyError(query.id, ErrorCode::kSessionFailed, "session " + name_ + " failed: " + last_error_);
    return;
  }
  if (state_ == SessionState::kStopping || state_ == SessionState::kStopped) {
    replyError(query.id, ErrorCode::kNotFound, "session " + name_ + " is stopping");
    return;
  }
  if (queueDepth() > context_.queue_depth) {
    replyError(query.id, ErrorCode::kBusy,
               "session " + name_ + " has " + std::to_string(queue_.size()) +
                   " prompts waiting (the most it queues)");
    return;
  }
  Millis timeout = context_.query_timeout;
  if (query.timeout_ms > 0) {
    timeout = Millis(std::min<uint64_t>(query.timeout_ms, kMaxTimeout.count()));
  } else if (options_.query_timeout_ms > 0) {
    timeout = Millis(std::min<uint64_t>(options_.query_timeout_ms, kMaxTimeout.count()));
  }
  queue_.push(PendingQuery{query.id, query.prompt, query.stream, now() + timeout, timeout});
  pump();
}

bool Session::cancel(uint64_t id) {
  if (auto queued = queue_.remove(id)) {
    replyError(id, ErrorCode::kCancelled, "cancelled before it started");
    return true;
  }
  if (running_ && running_->id == id) {
    interruptTurn(ErrorCode::kCancelled, "cancelled");
    return true;
  }
  return false;
}

void Session::pump() {
  if (state_ == SessionState::kHibernated) return wake();  // a prompt for a sleeping session
  while (state_ == SessionState::kIdle && !running_ && !draining_ && !settingUp() && process_ &&
         !process_->exited() && !queue_.empty()) {
    // A CLI killed since the last SIGCHLD was handled would swallow the prompt: reap first,
    // so the prompt waits for the restart instead of being lost with the dead process.
    if (process_->tryReap()) {
      onExit();
      return;
    }
    PendingQuery next = std::move(*queue_.pop());
    if (next.deadline <= now()) {
      replyError(next.id, ErrorCode::kTimeout,
                 "query timed out after " + millis(next.timeout) + " waiting in the queue");
      continue;
    }
    // `delivered` goes to the broker before the prompt goes to the CLI: if the worker dies
    // in between, the broker answers worker_lost for a prompt that never ran rather than
    // running one twice (at most once).
    observer_.onDelivered(next.id);
    process_->send(cli_messages::userMessage(next.prompt));
    has_history_ = true;
    RunningTurn turn;
    turn.id = next.id;
    turn.stream = next.stream;
    turn.deadline = next.deadline;
    turn.timeout = next.timeout;
    running_ = std::move(turn);
    setState(SessionState::kBusy);
  }
}

void Session::expireDeadlines() {
  const TimePoint t = now();
  for (const auto& expired : queue_.takeExpired(t)) {
    replyError(expired.id, ErrorCode::kTimeout,
               "query timed out after " + millis(expired.timeout) + " waiting in the queue");
  }
  if (running_ && t >= running_->deadline) {
    interruptTurn(ErrorCode::kTimeout, "query timed out after " + millis(running_->timeout));
  }
}

void Session::interruptTurn(ErrorCode code, const std::string& message) {
  if (!running_) return;
  // The next prompt waits for this turn's result: written earlier, it would get this
  // turn's answer.
  process_->send(cli_messages::interruptRequest("int_" + std::to_string(++control_counter_)));
  RunningTurn turn = std::move(*running_);
  running_.reset();
  closeQuestions(turn.id, message);
  draining_ = true;
  drain_deadline_ = now() + context_.interrupt_grace;
  replyError(turn.id, code, message, turn.partial());
  notify();
}

void Session::failRunning(ErrorCode code, const std::string& message) {
  if (!running_) return;
  RunningTurn turn = std::move(*running_);
  running_.reset();
  closeQuestions(turn.id, message);
  replyError(turn.id, code, message, turn.partial());
}

void Session::failQueued(ErrorCode code, const std::string& message) {
  for (const auto& query : queue_.takeAll()) replyError(query.id, code, message);
}

void Session::replyError(uint64_t id, ErrorCode code, const std::string& message,
                         const std::string& partial) {
  if (id == 0) return;
  observer_.onError(msg::ErrorReply{id, std::string(errorCodeName(code)), message, partial, name_});
}

void Session::sendAcks(std::vector<uint64_t>& ids) {
  for (uint64_t id : ids) {
    if (id == 0) continue;
    observer_.onAck(msg::Ack{id, name_, context_.worker_id, generation_,
                             std::string(sessionStateName(state_))});
  }
  ids.clear();
}

double Session::accountTurn(const CliEvent& event) {
  // The CLI's total_cost_usd is what it spent since it started; a total below the last one
  // means it began counting again.
  const double cost =
      event.cost_usd >= cli_cost_usd_ ? event.cost_usd - cli_cost_usd_ : event.cost_usd;
  cli_cost_usd_ = event.cost_usd;
  usage_.addTurn(cost, event.input_tokens, event.output_tokens);
  return cost;
}

void Session::handleResult(const CliEvent& event) {
  if (!event.solicited) {
    context_.log->info("[session {}] ignoring a result the CLI produced by itself", name_);
    return;
  }
  const double cost = accountTurn(event);  // every turn that ran is paid for, whatever its end
  if (draining_) {
    // The end of an interrupted turn, whose query was answered already.
    draining_ = false;
    if (state_ == SessionState::kBusy) {
      setState(SessionState::kIdle);
    } else {
      notify();  // its usage
    }
    pump();
    return;
  }
  if (!running_) {
    context_.log->debug("[session {}] ignoring a result with no turn running", name_);
    return;
  }
  RunningTurn turn = std::move(*running_);
  running_.reset();
  closeQuestions(turn.id, "the turn ended");
  ++turns_;
  fork_from_.clear();  // the CLI wrote the history under the fork's own id: resume that now
  noteTurnEnded();     // last use and memory, which the update below carries
  if (!event.session_id.empty()) reported_session_id_ = event.session_id;
  // The broker hears the new state before the reply, so a client that asks `info` after
  // its answer sees the finished turn.
  if (state_ == SessionState::kBusy) {
    setState(SessionState::kIdle);
  } else {
    notify();
  }
  if (!event.is_error) {
    msg::QueryResult result;
    result.id = turn.id;
    result.session = name_;
    result.text = event.text;
    result.session_id = reported_session_id_.empty() ? conversation_id_ : reported_session_id_;
    result.worker = context_.worker_id;
    result.duration_ms = event.duration_ms;
    result.cost_usd = cost;
    result.input_tokens = event.input_tokens;
    result.output_tokens = event.output_tokens;
    result.structured = event.structured;
    observer_.onQueryResult(result);
  } else {
    std::string message = !event.text.empty()     ? event.text
                          : !event.errors.empty() ? event.errors
                                                  : "the CLI ended the turn with " + event.subtype;
    // The model's API failed (overloaded, rate limited, down, ...) after the CLI's own
    // retries: a condition outside ccmesh that may pass, unlike a bug.
    const bool api_failed = event.api_error_status != 0 || event.terminal_reason == "api_error";
    // The session spent its max_budget_usd: a limit its creator set, not a failure.
    const bool spent = event.subtype == "error_max_budget_usd";
    replyError(turn.id,
               spent        ? ErrorCode::kBudgetExhausted
               : api_failed ? ErrorCode::kUnavailable
                            : ErrorCode::kInternal,
               message, turn.partial());
  }
  afterTurn();  // between turns: a CLI grown past max_rss_mb is recycled here
  pump();
}

}  // namespace ccmesh::worker
