#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/session_options.hpp"
#include "ccmesh/common/worker_messages.hpp"
#include "ccmesh/worker/cli_event.hpp"
#include "ccmesh/worker/cli_process.hpp"
#include "ccmesh/worker/session_context.hpp"
#include "ccmesh/worker/session_observer.hpp"
#include "ccmesh/worker/stream_json_parser.hpp"
#include "ccmesh/worker/turn_queue.hpp"

namespace ccmesh::worker {

// Where a session is in its life (docs/PROTOCOL.md names them in lowercase).
enum class SessionState { kStarting, kIdle, kBusy, kRestarting, kStopping, kStopped, kFailed };
std::string_view sessionStateName(SessionState state);

// One named session on this worker: a state machine around one CLI process and the bounded
// queue of prompts in front of it. STARTING (spawned, initialize sent) -> IDLE <-> BUSY
// (one turn at a time); a crash -> RESTARTING (backoff, then --resume) or FAILED (too many
// crashes); terminate -> STOPPING -> STOPPED. Everything is driven from the worker's loop
// through the on...() methods; nothing blocks.
class Session {
 public:
  Session(std::string name, uint64_t generation, SessionOptions options,
          const SessionContext& context, SessionObserver& observer);
  ~Session();

  // Spawns the first CLI (a new conversation, or options.resume). Acks `ack_id` (0: none)
  // once spawned, or answers `internal` if the CLI cannot be started.
  void start(uint64_t ack_id);
  // Queues a prompt; answers busy / session_failed / not_found at once when it cannot.
  void query(const msg::Query& query);
  // Cancels a queued or running query; false if this session does not have it.
  bool cancel(uint64_t id);
  // Stops gently; queries end `cancelled` with `reason`; acks (state stopped) on exit.
  void terminate(uint64_t ack_id, const std::string& reason);
  // Restarts the CLI: a fresh conversation unless keep_history. Acks once respawned.
  void restart(uint64_t ack_id, bool keep_history);
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
  // Timers: deadlines, backoff, stop escalation.
  void onTimer();
  std::optional<TimePoint> nextDeadline() const;

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
  const std::deque<std::string>& stderrTail() const { return stderr_tail_; }

 private:
  // --- lifecycle (session.cpp)
  void spawn(ConversationStart start);
  void onExit();
  void drainOutput();
  void onCrash(const std::string& exit_status, int exit_code);
  void becomeFailed(const std::string& why);
  void finishStop();
  void requestRespawn(ConversationStart start);
  void setState(SessionState state);
  void notify();
  TimePoint now() const { return context_.clock->now(); }
  // --- turns and CLI output (session_output.cpp)
  void pump();
  void handleLines();
  void handleErrorLines();
  void handleEvent(const CliEvent& event);
  void handleResult(const CliEvent& event);
  void handleControlRequest(const CliEvent& event);
  void interruptTurn(ErrorCode code, const std::string& message);
  void failQueued(ErrorCode code, const std::string& message);
  void failRunning(ErrorCode code, const std::string& message);
  void replyError(uint64_t id, ErrorCode code, const std::string& message,
                  const std::string& partial = {});
  void sendAcks(std::vector<uint64_t>& ids);
  void expireDeadlines();
  void noteErrorLine(const std::string& line);

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
  std::optional<ConversationStart> respawn_;  // when the CLI exits, start it again like this
  std::optional<TimePoint> restart_at_;       // RESTARTING: when the backoff ends
  std::deque<TimePoint> crashes_;             // unexpected exits within the restart window
  uint32_t restarts_ = 0;                     // respawns since placement (or since FAILED)
  uint64_t turns_ = 0;                        // turns completed
  std::string last_error_;                    // why it last crashed or failed
  std::string kill_reason_;                   // why the worker killed the CLI, for the crash report
  std::deque<std::string> stderr_tail_;       // the CLI's last stderr lines
  uint64_t control_counter_ = 0;              // numbers our interrupt requests
  std::vector<uint64_t> spawn_acks_;          // assign/restart ids to ack once spawned
  std::vector<uint64_t> stop_acks_;           // terminate ids to ack once stopped
  std::optional<msg::SessionUpdate> last_update_;  // what the broker last heard
};

}  // namespace ccmesh::worker
