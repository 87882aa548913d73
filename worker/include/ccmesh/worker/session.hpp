#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/permission_messages.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/session_options.hpp"
#include "ccmesh/common/worker_messages.hpp"
#include "ccmesh/worker/cli_event.hpp"
#include "ccmesh/worker/cli_process.hpp"
#include "ccmesh/worker/permission_policy.hpp"
#include "ccmesh/worker/session_context.hpp"
#include "ccmesh/worker/session_observer.hpp"
#include "ccmesh/worker/stream_json_parser.hpp"
#include "ccmesh/worker/transcript_mirror.hpp"
#include "ccmesh/worker/turn_queue.hpp"

namespace ccmesh::worker {

// Where a session is in its life (docs/PROTOCOL.md names them in lowercase).
enum class SessionState {
  kStarting,
  kIdle,
  kBusy,
  kRestarting,
  kStopping,
  kStopped,
  kFailed,
  kHibernating,  // its CLI is being stopped to free memory; the conversation is kept
  kHibernated,   // no CLI process (on demand, idle past its timeout, or made room)
};
std::string_view sessionStateName(SessionState state);

// One named session on this worker: a state machine around one CLI process and the bounded
// queue of prompts in front of it. STARTING (spawned, initialize sent) -> IDLE <-> BUSY
// (one turn at a time); a crash -> RESTARTING (backoff, then --resume) or FAILED (too many
// crashes); terminate -> STOPPING -> STOPPED. Idle sessions give their CLI up: IDLE ->
// HIBERNATING -> HIBERNATED (no process, conversation kept), and the next query resumes it
// (session_residency.cpp). Files by responsibility: session.cpp (state, reports, timers),
// session_process.cpp (the CLI process), session_turns.cpp (the turn queue),
// session_cli_output.cpp (what the CLI prints), session_residency.cpp, session_transcript.cpp.
// Everything is driven from the worker's loop through the on...()
// methods; nothing blocks.
class Session {
 public:
  Session(std::string name, uint64_t generation, SessionOptions options,
          const SessionContext& context, SessionObserver& observer);
  ~Session();

  // Spawns the first CLI (a new conversation, or options.resume). Acks `ack_id` (0: none)
  // once spawned, or answers `internal` if the CLI cannot be started. An on-demand session
  // (or one that must wait for a live slot) acks at once, HIBERNATED.
  void start(uint64_t ack_id);
  // Before start(): continue conversation `session_id` from `transcript` (JSONL a broker
  // kept): written where the CLI keeps transcripts before the first spawn, then --resume.
  void seedConversation(std::string session_id, std::string transcript);
  // Before start(): what the session used before this placement (the assign's usage).
  void carryUsage(const Usage& usage) { usage_ = usage; }
  // Its cluster-side budget changed: kept in the options and usage it reports, then
  // confirmed to the broker if the update asks (its id).
  void setBudget(const msg::BudgetUpdate& budget);
  // Before start(): fork conversation `session_id` (docs/SESSIONS.md "Forks"): `transcript` is
  // written as seedConversation does, and the CLI continues it under a new id of this
  // session's until its first turn has written the history there.
  void forkConversation(std::string session_id, std::string transcript);
  // Its conversation was cut (entries are missing), as `why` says: queries get
  // conversation_incomplete until a restart accepts the cut or starts afresh.
  void holdCut(const std::string& why);
  // Instead of start(): this session cannot run here (e.g. its cwd is missing on this
  // machine); it is held FAILED with `why`, and `ack_id` is acknowledged with that state.
  void refuse(uint64_t ack_id, const std::string& why);
  // Queues a prompt; answers busy / session_failed / not_found at once when it cannot.
  void query(const msg::Query& query);
  // Cancels a queued or running query; false if this session does not have it.
  bool cancel(uint64_t id);
  // Stops gently; queries end `cancelled` with `reason`; acks (state stopped) on exit.
  void terminate(uint64_t ack_id, const std::string& reason);
  // Restarts the CLI: a fresh conversation unless keep_history. Acks once respawned.
  // from_cut: the client accepts a cut conversation as its history.
  void restart(uint64_t ack_id, bool keep_history, bool from_cut = false);
  // --- the transcript the broker keeps (session_transcript.cpp)
  // The broker holds the conversation's entries up to `ack.upto`.
  void onTranscriptAck(const msg::TranscriptAck& ack);
  // The broker's copy of the conversation, asked for when the CLI could not resume it from
  // this worker's disk.
  void onTranscriptSeed(const msg::TranscriptSeed& seed);
  // A broker (re)registered this worker: sends again every entry it has not acknowledged.
  void resendTranscript();
  // --- tool approval (session_permissions.cpp)
  // The client's answer to one of this session's tool questions (permission_request).
  void onPermissionReply(const msg::PermissionReply& reply);
  // --- live settings and context usage (session_controls.cpp)
  // Changes the CLI's model and/or permission mode between turns (busy while a turn runs);
  // acks set.id once the CLI confirmed, keeping them in the options.
  void setLive(const msg::Set& set);
  // Answers `id` with the CLI's get_context_usage (unavailable without a CLI).
  void askContext(uint64_t id);
  // Answers an assign of the same generation again (idempotent): acks the current state.
  void acknowledge(uint64_t ack_id);
  // Kills the CLI group now (second SIGTERM to the worker).
  void kill();

  // The CLI, for polling its descriptors; null while none runs.
  CliProcess* process() { return process_.get(); }
  // The descriptors polled ready.
  void onOutputReadable(std::size_t budget);
  void onErrorsReadable(std::size_t budget);
  void onInputWritable();
  // A child exited (SIGCHLD): reaps ours if it was the one.
  void onChildExited();
  // Timers: deadlines, backoff, stop escalation, idle timeout, memory probes.
  void onTimer();
  std::optional<TimePoint> nextDeadline() const;

  // --- residency (session_residency.cpp)
  // This session's number in the worker's live budget (unique within the worker).
  uint64_t serial() const { return serial_; }
  // The slot it waited for is free: spawns. False if it no longer needs one (then it holds
  // none).
  bool grantSlot();
  // Stops the CLI of an evictable session gently to free its slot; it becomes HIBERNATED.
  void hibernate(const std::string& why);
  // Idle between turns with a live CLI and nothing queued: may be hibernated.
  bool evictable() const;
  // When its last turn ended (or it was placed).
  TimePoint lastUsed() const { return last_used_; }
  // Nothing to do until it is given something: no CLI, no prompts, no timers, no replies.
  bool dormant() const;

  const std::string& name() const { return name_; }
  uint64_t generation() const { return generation_; }
  const SessionOptions& options() const { return options_; }
  SessionState state() const { return state_; }
  // Stopped, and every reply sent: the owner may forget it.
  bool finished() const { return state_ == SessionState::kStopped; }
  // Prompts accepted and not finished, the running one included.
  std::size_t queueDepth() const { return queue_.size() + (running_ ? 1 : 0); }
  msg::SessionUpdate update() const;
  // The CLI's last stderr lines (for crash reports).
  const std::list<std::string>& stderrTail() const { return stderr_tail_; }

 private:
  // --- the CLI process (session_process.cpp)
  void spawn(ConversationStart start);
  void onExit();
  void drainOutput();
  void onCrash(const std::string& exit_status, int exit_code);
  void becomeFailed(const std::string& why);
  void finishStop();
  void requestRespawn(ConversationStart start);
  // --- state and reports (session.cpp)
  void setState(SessionState state);
  void notify();
  TimePoint now() const { return context_.clock->now(); }
  // --- residency (session_residency.cpp)
  void needProcess(ConversationStart start, bool for_queue);
  void wake();
  void finishHibernation();
  void noteTurnEnded();
  void afterTurn();
  bool probeMemory(TimePoint t);
  void recycle();
  void withdrawSlot();
  bool waitingForSlot() const { return observer_.waitsForSlot(*this); }
  bool betweenTurns() const;
  Millis idleTimeout() const;
  ConversationStart resumeOrNew() const {
    if (!fork_from_.empty()) return ConversationStart::kFork;
    return has_history_ ? ConversationStart::kResume : ConversationStart::kNew;
  }
  // --- the turn queue (session_turns.cpp)
  void pump();
  void handleResult(const CliEvent& event);
  // Adds the turn a result ends to the session's usage; returns what that turn cost.
  double accountTurn(const CliEvent& event);
  void interruptTurn(ErrorCode code, const std::string& message);
  void failQueued(ErrorCode code, const std::string& message);
  void failRunning(ErrorCode code, const std::string& message);
  void replyError(uint64_t id, ErrorCode code, const std::string& message,
                  const std::string& partial = {});
  void sendAcks(std::vector<uint64_t>& ids);
  void expireDeadlines();
  // --- what the CLI prints (session_cli_output.cpp)
  void handleLines();
  void handleErrorLines();
  void handleEvent(const CliEvent& event);
  void handleControlRequest(const CliEvent& event);
  void noteErrorLine(const std::string& line);
  // --- tool approval (session_permissions.cpp)
  // One can_use_tool question of the CLI that waits for the client's answer.
  struct Question {
    std::string request;    // the CLI's request id
    std::string tool_name;  // the tool asked about
    std::string input;      // its input, a JSON object's text
    uint64_t query_id = 0;  // the query that was running when it came (0: none)
    TimePoint deadline{};   // denied then, unanswered
  };
  // Decides a can_use_tool request by the session's handler, or asks the client.
  void askPermission(const CliEvent& event);
  // Answers the CLI (allow with `input`, or its own input when empty; or deny with
  // `message`), logs it and reports it to the broker.
  void answerQuestion(const Question& question, bool allow, std::string_view input,
                      const std::string& decided_by, std::string message);
  // Denies the open questions of a query that ended (`why`), or that are overdue.
  void closeQuestions(uint64_t query_id, const std::string& why);
  void expireQuestions(TimePoint t);
  // Takes the open questions `which` selects out and denies each, decided by `decided_by`
  // for the reason `why` gives.
  void denyQuestions(const std::function<bool(const Question&)>& which,
                     const std::string& decided_by,
                     const std::function<std::string(const Question&)>& why);
  // The CLI took a question back (control_cancel_request).
  void withdrawQuestion(const std::string& request);
  std::optional<TimePoint> nextQuestionDeadline() const;
  // --- live settings and context usage (session_controls.cpp)
  // A control request of ours waiting for the CLI's control_response.
  struct Control {
    enum class Kind { kModel, kPermissionMode, kContext };
    Kind kind = Kind::kModel;
    uint64_t reply_id = 0;  // the set or context request it answers
    std::string value;      // set: the model or mode asked for
    std::string then_mode;  // set_model: the mode to ask for once the model is taken
    TimePoint deadline{};   // answered `timeout` if the CLI has not answered by then
  };
  // How long the CLI has to answer one of them.
  static constexpr Millis kControlTimeout{30000};
  // Sends `control` to the CLI and waits for its answer.
  void askCli(Control control);
  void expireControls(TimePoint t);
  std::optional<TimePoint> nextControlDeadline() const;
  // The CLI answered one of them: true if it was one.
  bool onControlAnswer(const CliEvent& event);
  // The CLI went away: every request waiting for it gets `why`.
  void failControls(const std::string& why);
  // Takes the controls `which` selects out and answers their requests `code` with `why`.
  void endControls(const std::function<bool(const Control&)>& which, ErrorCode code,
                   const std::string& why);
  // A `set` waits for the CLI: prompts wait for it.
  bool settingUp() const;
  // --- the transcript the broker keeps (session_transcript.cpp)
  // Keeps mirrored transcript entries for the next batch; sends a full batch at once.
  void mirror(const CliEvent& event);
  // Sends the entries kept so far to the broker (one batch), if any.
  void flushMirror();
  // Writes the seeded transcript before a spawn; false (session FAILED) if it cannot.
  bool writeSeed(const CliCommand& command);
  // The conversation is now `id`, its transcript holding `entries` entries already.
  void beginConversation(std::string id, uint64_t entries);
  // Where the CLI keeps this conversation's transcript on this worker's disk.
  std::filesystem::path localTranscriptPath() const;
  // options.resume: mirrors the transcript on this worker's disk, so the broker has it whole.
  void mirrorLocalTranscript();
  // The transcript the CLI would resume from holds fewer entries than this session mirrored
  // (it could not be written here, or was cut short): resuming from it would lose turns.
  bool localCopyShort(const CliCommand& command) const;
  // Asks the broker for its copy; the spawn waits for the answer.
  void fetchBrokerCopy();
  // The broker lacks entries this session no longer keeps: sends the CLI's transcript from
  // this worker's disk in their place, once between turns.
  void sendSnapshot();

  std::string name_;                              // the session's name
  uint64_t generation_;                           // its placement generation
  SessionOptions options_;                        // what it was started with
  const SessionContext& context_;                 // worker-wide settings and clock
  SessionObserver& observer_;                     // where updates and replies go
  SessionState state_ = SessionState::kStarting;  // see SessionState
  std::unique_ptr<CliProcess> process_;           // the running CLI, if any
  StreamJsonParser parser_;                       // stdout lines -> events
  std::string conversation_id_;                   // pinned --session-id / --resume value
  bool has_history_ = false;                  // the conversation exists, so --resume can load it
  std::string reported_session_id_;           // session_id of the CLI's last result
  TurnQueue queue_;                           // prompts waiting
  std::optional<RunningTurn> running_;        // the prompt the CLI is answering
  bool draining_ = false;                     // interrupted: waiting for that turn's result
  TimePoint drain_deadline_{};                // restart the CLI if that result has not come by then
  bool initialized_ = false;                  // the CLI answered `initialize`
  TimePoint init_deadline_{};                 // restart the CLI if it has not answered by then
  TimePoint spawned_at_{};                    // when the CLI was started
  std::optional<ConversationStart> respawn_;  // when the CLI exits, start it again like this
  std::optional<TimePoint> restart_at_;       // RESTARTING: when the backoff ends
  std::list<TimePoint> crashes_;        // unexpected exits within the restart window (lists, as
                                        // the queue: an idle session allocates nothing for them)
  uint32_t restarts_ = 0;               // respawns since placement (or since FAILED)
  uint64_t turns_ = 0;                  // turns completed
  std::string last_error_;              // why it last crashed or failed
  std::string kill_reason_;             // why the worker killed the CLI, for the crash report
  std::list<std::string> stderr_tail_;  // the CLI's last stderr lines
  uint64_t control_counter_ = 0;        // numbers our interrupt requests
  std::vector<uint64_t> spawn_acks_;    // assign/restart ids to ack once spawned
  std::vector<uint64_t> stop_acks_;     // terminate ids to ack once stopped
  std::optional<msg::SessionUpdate> last_update_;  // what the broker last heard
  uint64_t serial_;                                // number in the live budget
  TimePoint last_used_{};                          // when its last turn ended (or it was placed)
  // How to start once the live slot it waits for is granted (whether it waits is the
  // observer's to say: waitingForSlot()).
  ConversationStart start_when_granted_ = ConversationStart::kNew;
  bool slot_for_queue_ = false;        // that wait is for queued prompts: void once they are gone
  bool recycle_due_ = false;           // over max_rss_mb: restart with history between turns
  bool recycling_ = false;             // the respawn under way is a recycle
  uint32_t recycles_ = 0;              // recycles since placement
  uint64_t rss_kb_ = 0;                // the CLI's resident memory at the last probe
  uint64_t reported_rss_kb_ = 0;       // rss_kb as the broker last heard it
  TimePoint next_probe_{};             // when to read the CLI's resident memory next
  std::optional<std::string> seed_;    // a transcript to write before the next spawn
  std::string fork_from_;              // a fork with no turn yet: the conversation it forks
  bool fork_id_used_ = false;          // a CLI ran under the fork's id: the next takes another
  TranscriptMirror transcript_;        // mirrored entries: positions, batches, unacknowledged
  uint64_t mirror_rejects_ = 0;        // mirrored entries dropped since start, for the log
  std::string cut_;                    // non-empty: its conversation was cut (see holdCut)
  std::optional<TimePoint> copy_due_;  // waiting for the broker's copy; ask again then
  bool snapshot_due_ = false;          // the broker lacks entries: send a snapshot
  uint64_t snapshot_sent_at_ = UINT64_MAX;  // position at the last snapshot (one per position)
  Usage usage_;                             // what its turns used, its whole life
  double cli_cost_usd_ = 0;          // the running CLI's total_cost_usd at its last result (a CLI
                                     // reports what it spent since it started, not per turn)
  PermissionPolicy policy_;          // permission_rules, parsed
  std::vector<Question> questions_;  // tool questions waiting for the client
  std::map<std::string, Control> controls_;  // our control requests, by request id
};

}  // namespace ccmesh::worker
