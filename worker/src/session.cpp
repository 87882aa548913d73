// Session: its state, what the broker hears of it, and its timers. The CLI process is in
// session_process.cpp, the turn queue in session_turns.cpp, the CLI's output in
// session_cli_output.cpp, residency in session_residency.cpp, the broker's copy of the
// transcript in session_transcript.cpp.
#include "ccmesh/worker/session.hpp"

#include <algorithm>

#include "ccmesh/common/uuid.hpp"
#include "ccmesh/worker/conversation_file.hpp"

namespace ccmesh::worker {
namespace {

bool sameUpdate(const msg::SessionUpdate& a, const msg::SessionUpdate& b) {
  return a.session == b.session && a.generation == b.generation && a.state == b.state &&
         a.pid == b.pid && a.session_id == b.session_id && a.restarts == b.restarts &&
         a.turns == b.turns && a.last_error == b.last_error && a.recycles == b.recycles &&
         a.rss_kb == b.rss_kb && a.cut == b.cut && a.usage == b.usage;
}

// Numbers sessions for the live budget; the worker's loop is single-threaded.
uint64_t nextSerial() {
  static uint64_t counter = 0;
  return ++counter;
}

}  // namespace

std::string_view sessionStateName(SessionState state) {
  switch (state) {
    case SessionState::kStarting:
      return "starting";
    case SessionState::kIdle:
      return "idle";
    case SessionState::kBusy:
      return "busy";
    case SessionState::kRestarting:
      return "restarting";
    case SessionState::kStopping:
      return "stopping";
    case SessionState::kStopped:
      return "stopped";
    case SessionState::kFailed:
      return "failed";
    case SessionState::kHibernating:
      return "hibernating";
    case SessionState::kHibernated:
      return "hibernated";
  }
  return "unknown";
}

namespace {

// The session's permission_rules; none if they do not parse (the broker checked them at
// start, so only a peer of another version gets here: its policy then denies everything).
PermissionPolicy policyOf(const std::vector<std::string>& rules) {
  auto parsed = PermissionPolicy::parse(rules);
  return parsed ? std::move(*parsed) : PermissionPolicy({});
}

}  // namespace

Session::Session(std::string name, uint64_t generation, SessionOptions options,
                 const SessionContext& context, SessionObserver& observer)
    : name_(std::move(name)),
      generation_(generation),
      options_(std::move(options)),
      context_(context),
      observer_(observer),
      queue_(context.queue_depth + 1),
      serial_(nextSerial()),
      transcript_(context.transcript_retain_bytes),
      policy_(policyOf(options_.permission_rules)) {}

Session::~Session() = default;

void Session::setBudget(const msg::BudgetUpdate& budget) {
  options_.budget_usd = budget.budget_usd;
  options_.pool_budget_usd = budget.pool_budget_usd;
  usage_.counted_from_usd = budget.counted_from_usd;
  context_.log->info("[session {}] budget {} USD, pool budget {} USD, counted from {} USD", name_,
                     budget.budget_usd, budget.pool_budget_usd, budget.counted_from_usd);
  notify();
  std::vector<uint64_t> ack{budget.id};  // the broker answers its `budget` request on this
  sendAcks(ack);
}

void Session::refuse(uint64_t ack_id, const std::string& why) {
  if (ack_id != 0) spawn_acks_.push_back(ack_id);
  last_used_ = now();
  if (conversation_id_.empty()) beginConversation(randomUuid(), 0);
  has_history_ = seed_.has_value();  // a restart once the cause is fixed resumes it
  context_.log->warn("[session {}] refused: {}", name_, why);
  becomeFailed(why);
  sendAcks(spawn_acks_);
}

void Session::start(uint64_t ack_id) {
  if (ack_id != 0) spawn_acks_.push_back(ack_id);
  last_used_ = now();
  if (seed_) {
    has_history_ = true;  // conversation_id_ was seeded
  } else if (!options_.resume.empty()) {
    beginConversation(options_.resume, 0);
    has_history_ = true;
    mirrorLocalTranscript();
  } else {
    beginConversation(randomUuid(), 0);
    has_history_ = false;
  }
  if (options_.onDemand()) {
    setState(SessionState::kHibernated);  // the first query starts the CLI
    sendAcks(spawn_acks_);
    wake();  // prompts may have queued while it waited for an older copy to exit
    return;
  }
  needProcess(resumeOrNew(), false);
}

void Session::acknowledge(uint64_t ack_id) {
  std::vector<uint64_t> ids{ack_id};
  sendAcks(ids);
}

void Session::onTimer() {
  const TimePoint t = now();
  if (process_) process_->onTimer(t);
  expireDeadlines();
  expireQuestions(t);
  expireControls(t);
  if (draining_ && process_ && t >= drain_deadline_) {
    context_.log->warn("[session {}] interrupted turn did not end within {} ms; restarting CLI",
                       name_, context_.interrupt_grace.count());
    draining_ = false;
    requestRespawn(resumeOrNew());
  }
  if (process_ && !initialized_ && !process_->stopping() && t >= init_deadline_) {
    kill_reason_ = "CLI did not answer initialize within " +
                   std::to_string(context_.initialize_timeout.count()) + " ms";
    context_.log->warn("[session {}] {}", name_, kill_reason_);
    process_->killGroup();
  }
  if (copy_due_ && t >= *copy_due_) {
    context_.log->warn(
        "[session {}] no answer from the broker with its conversation's copy yet; "
        "asking again",
        name_);
    fetchBrokerCopy();
  }
  if (state_ == SessionState::kRestarting && !process_ && restart_at_ && t >= *restart_at_) {
    restart_at_.reset();
    ++restarts_;
    needProcess(resumeOrNew(), false);
  }
  // Prompts a hibernated session woke up for may have expired meanwhile.
  if (slot_for_queue_ && queue_.empty() && waitingForSlot()) withdrawSlot();
  if (process_ && !process_->stopping() && t >= next_probe_ && probeMemory(t)) notify();
  if (recycle_due_ && betweenTurns()) {
    recycle();
  } else if (evictable() && idleTimeout().count() > 0 && t >= last_used_ + idleTimeout()) {
    hibernate("idle for " + std::to_string(idleTimeout().count()) + " ms");
  }
}

std::optional<TimePoint> Session::nextDeadline() const {
  std::optional<TimePoint> next;
  auto consider = [&next](std::optional<TimePoint> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  if (process_) {
    consider(process_->nextDeadline());
    if (!initialized_ && !process_->stopping()) consider(init_deadline_);
  }
  consider(queue_.earliestDeadline());
  if (running_) consider(running_->deadline);
  consider(nextQuestionDeadline());
  consider(nextControlDeadline());
  if (draining_) consider(drain_deadline_);
  consider(restart_at_);
  consider(copy_due_);
  if (process_ && !process_->stopping()) consider(next_probe_);
  if (evictable() && idleTimeout().count() > 0) consider(last_used_ + idleTimeout());
  return next;
}

msg::SessionUpdate Session::update() const {
  msg::SessionUpdate update;
  update.session = name_;
  update.generation = generation_;
  update.state = std::string(sessionStateName(state_));
  update.pid = process_ ? process_->pid() : 0;
  update.session_id = conversation_id_;
  update.restarts = restarts_;
  update.turns = turns_;
  update.last_error = last_error_;
  update.recycles = recycles_;
  update.rss_kb = process_ ? reported_rss_kb_ : 0;
  const auto idle = std::chrono::duration_cast<Millis>(now() - last_used_).count();
  update.last_used_ms =
      last_used_ == TimePoint{} ? 0 : static_cast<uint64_t>(std::max<int64_t>(0, idle));
  update.mirrored = transcript_.position();
  update.cut = cut_;
  update.usage = usage_;
  return update;
}

void Session::setState(SessionState state) {
  if (state != state_) {
    context_.log->debug("[session {}] {} -> {}", name_, sessionStateName(state_),
                        sessionStateName(state));
  }
  state_ = state;
  notify();
}

void Session::notify() {
  msg::SessionUpdate current = update();
  if (last_update_ && sameUpdate(*last_update_, current)) return;
  last_update_ = current;
  observer_.onSessionChanged(current);
}

}  // namespace ccmesh::worker
