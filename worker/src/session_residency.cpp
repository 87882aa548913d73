// Session: whether its CLI is resident. A CLI starts on demand, waits for a slot of the
// worker's live budget, is hibernated when idle past its timeout or to make room, and is
// recycled (restarted with its history, between turns) when it holds too much memory.
#include "ccmesh/worker/rss_probe.hpp"
#include "ccmesh/worker/session.hpp"

namespace ccmesh::worker {
namespace {

// A resident size that moved this many tenths away from what the broker heard is news.
constexpr uint64_t kRssNewsTenths = 1;

uint64_t distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

}  // namespace

void Session::needProcess(ConversationStart start, bool for_queue) {
  if (observer_.acquireLiveSlot(*this)) {
    spawn(start);
    return;
  }
  start_when_granted_ = start;
  slot_for_queue_ = for_queue;
  if (observer_.waitsForSpawnTurn(*this)) {
    context_.log->debug("[session {}] waits for its turn to spawn", name_);
    return;  // within a loop round or two; acks go out when it has started
  }
  context_.log->debug("[session {}] waiting for a live slot", name_);
  if (state_ != SessionState::kRestarting) setState(SessionState::kHibernated);
  sendAcks(spawn_acks_);  // answered now; the CLI starts when a slot frees
}

void Session::wake() {
  if (process_ || copy_due_ || queue_.empty() || waitingForSlot()) return;
  needProcess(resumeOrNew(), true);
}

bool Session::grantSlot() {
  if (process_) return false;
  if (slot_for_queue_ && queue_.empty()) return false;  // its prompts expired or were cancelled
  spawn(start_when_granted_);
  return process_ != nullptr || copy_due_.has_value();  // (a spawn waiting for a transcript
                                                        // keeps its slot)
}

void Session::withdrawSlot() {
  if (!process_) observer_.onLiveSlotReleased(*this);
}

bool Session::betweenTurns() const {
  return process_ && !process_->stopping() && !process_->exited() && initialized_ &&
         state_ == SessionState::kIdle && !running_ && !draining_;
}

bool Session::evictable() const { return betweenTurns() && queue_.empty(); }

bool Session::dormant() const {
  return state_ == SessionState::kHibernated && !process_ && queue_.empty() && !running_ &&
         spawn_acks_.empty() && stop_acks_.empty() && !copy_due_ && !waitingForSlot();
}

Millis Session::idleTimeout() const {
  return options_.idle_timeout_ms > 0 ? Millis(options_.idle_timeout_ms) : context_.idle_timeout;
}

void Session::hibernate(const std::string& why) {
  if (!evictable()) return;
  context_.log->info("[session {}] hibernating ({}): stopping CLI pid {}", name_, why,
                     process_->pid());
  process_->beginStop(now(), context_.stop_grace);
  setState(SessionState::kHibernating);
}

void Session::finishHibernation() {
  observer_.onLiveSlotReleased(*this);
  rss_kb_ = 0;
  reported_rss_kb_ = 0;
  setState(SessionState::kHibernated);
  wake();  // prompts that came while the CLI stopped start it again, with --resume
}

void Session::noteTurnEnded() {
  last_used_ = now();
  if (process_ && !process_->stopping()) probeMemory(last_used_);
}

void Session::afterTurn() {
  sendSnapshot();
  if (recycle_due_ && betweenTurns()) recycle();
}

bool Session::probeMemory(TimePoint t) {
  next_probe_ = t + context_.rss_probe_interval;
  const auto kb = RssProbe::residentKb(process_->pid());
  if (!kb) return false;
  rss_kb_ = *kb;
  const uint64_t limit_kb = options_.max_rss_mb * 1024;
  if (limit_kb > 0 && rss_kb_ > limit_kb && !recycle_due_) {
    recycle_due_ = true;
    context_.log->info("[session {}] CLI pid {} holds {} kB resident, more than max_rss_mb {}",
                       name_, process_->pid(), rss_kb_, options_.max_rss_mb);
  }
  if (reported_rss_kb_ != 0 &&
      distance(rss_kb_, reported_rss_kb_) * 10 < reported_rss_kb_ * kRssNewsTenths) {
    return false;
  }
  reported_rss_kb_ = rss_kb_;  // news: the caller tells the broker
  return true;
}

void Session::recycle() {
  recycle_due_ = false;
  recycling_ = true;
  context_.log->info("[session {}] recycling CLI pid {} ({} kB): restarting it with its history",
                     name_, process_->pid(), rss_kb_);
  respawn_ = resumeOrNew();
  process_->beginStop(now(), context_.stop_grace);
  setState(SessionState::kRestarting);
}

}  // namespace ccmesh::worker
