#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ccmesh/common/message_type.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/worker_messages.hpp"
#include "ccmesh/worker/live_budget.hpp"
#include "ccmesh/worker/session.hpp"
#include "delta_coalescer.hpp"

namespace ccmesh::worker {

// The sessions a worker hosts, by name, and the broker requests addressed to them: checks
// names, generations and capacity, routes queries and cancels, and turns the sessions'
// replies into outgoing messages. Older-generation copies being replaced are kept in
// `retired_` until their CLI has exited, and the new copy starts only then, so two CLIs
// never write one transcript.
//
// It also keeps the worker's live budget (--max-live): sessions take a slot before they
// spawn a CLI; when none is free, the least recently used idle session is hibernated and
// the waiting one starts once that CLI has exited (session_table_live_slots.cpp). Only
// "awake" sessions (with a CLI, prompts, timers or replies due) are polled and timed, so
// thousands of hibernated names cost nothing per loop iteration.
class SessionTable final : public SessionObserver {
 public:
  // Sends one message to the broker.
  using Outbox = std::function<void(MessageType, msgpack::sbuffer)>;
  // Whether the broker link has messages its socket has not taken yet.
  using LinkBacklog = std::function<bool()>;
  // Most text one merged `event` carries.
  static constexpr std::size_t kMaxMergedDeltaBytes = 16u << 10;
  // Shortest time between two `load` messages.
  static constexpr Millis kLoadInterval{100};

  // max_live: live CLI processes at once (0: no limit besides capacity).
  SessionTable(const SessionContext& context, uint32_t capacity, Outbox outbox,
               uint32_t max_live = 0);
  ~SessionTable() override;

  void assign(const msg::Assign& assign);
  void query(const msg::Query& query);
  void cancel(uint64_t id);
  // `set` and `context` for a session of this worker.
  void set(const msg::Set& set);
  void context(const msg::ContextRequest& context);
  // A session's cluster-side budget changed (kept for the reports; enforced by the broker).
  void budget(const msg::BudgetUpdate& budget);
  // The client's answer to a tool question of the session running query `reply.id`.
  void permissionReply(const msg::PermissionReply& reply);
  void terminate(const msg::Terminate& terminate);
  void restart(const msg::Restart& restart);
  // The transcript the broker keeps (docs/SESSIONS.md "What survives which failure").
  void transcriptAck(const msg::TranscriptAck& ack);
  void transcriptSeed(const msg::TranscriptSeed& seed);
  // A broker (re)registered this worker: every session sends its unacknowledged entries.
  void resendTranscripts();

  // Worker shutdown: every session stops gently, in parallel.
  void terminateAll(const std::string& reason);
  // Second signal or shutdown deadline: SIGKILL every CLI group.
  void killAll();
  // The lease lapsed: kill every CLI group at once and forget every session and query
  // without a reply (the broker decides their outcome: it may already have moved them).
  void fenceAll();

  // What `ready` reports: every session still held.
  std::vector<msg::SessionReport> reports() const;
  // Calls f(Session&) for every session, retired copies included.
  void forEach(const std::function<void(Session&)>& f);
  // Calls f(Session&) for every awake session: every one with a CLI is among them.
  void forEachAwake(const std::function<void(Session&)>& f);
  // Live and hibernated counts, as `ready` and `load` report them.
  msg::Load load() const;
  // SIGCHLD arrived.
  void onChildExited();
  // Runs every session's timers, forgets stopped sessions and starts deferred ones.
  void onTimer();
  std::optional<TimePoint> nextDeadline() const;
  // Forgets stopped sessions; starts sessions whose retired copy has exited.
  void collectFinished();
  // Streamed deltas (see DeltaCoalescer): the link's backlog holds them back; a round of
  // merging ends after each read of a CLI's output and each loop iteration.
  void watchLinkBacklog(LinkBacklog backlog) { link_backlog_ = std::move(backlog); }
  void releaseDeltas();
  // When held deltas are next due (without a link backlog).
  std::optional<TimePoint> nextDeltaRelease() const { return deltas_.nextRelease(); }
  // Sends every held delta now (shutdown).
  void flushDeltas();
  // No session left at all (shutdown is complete).
  bool empty() const { return sessions_.empty() && retired_.empty(); }

  // SessionObserver
  void onSessionChanged(const msg::SessionUpdate& update) override;
  void onDelivered(uint64_t id) override;
  void onEvent(const msg::Event& event) override;
  void onQueryResult(const msg::QueryResult& result) override;
  void onError(const msg::ErrorReply& error) override;
  void onAck(const msg::Ack& ack) override;
  void onTranscript(msg::TranscriptAppend batch) override;
  void onTranscriptFetch(const msg::TranscriptFetch& fetch) override;
  void onPermissionRequest(const msg::PermissionRequest& request) override;
  void onContext(const msg::ContextResult& result) override;
  void onPermissionDecision(const msg::PermissionDecision& decision) override;
  bool acquireLiveSlot(Session& session) override;
  bool waitsForSlot(const Session& session) const override;
  void onLiveSlotReleased(Session& session) override;
  bool waitsForSpawnTurn(const Session& session) const override;

  // Most CLIs spawned per loop round. A spawn blocks until the child has exec'd, which
  // on a busy machine takes milliseconds; a hundred names arriving at once (a failover)
  // must not keep the loop from heartbeats and its lease for that long. The others wait
  // their turn, those with prompts queued ahead of those that only start.
  static constexpr std::size_t kSpawnsPerRound = 8;

 private:
  // The current copy of `name` if it is of `generation`, else null (no reply).
  Session* current(const std::string& name, uint64_t generation) const;
  // The session `name` of generation `generation`, or null after answering not_found.
  Session* find(const std::string& name, uint64_t generation, uint64_t reply_id);
  void replyError(uint64_t id, ErrorCode code, const std::string& message,
                  const std::string& session);
  bool hasRetired(const std::string& name) const;
  // Sends an `event`, its text cut to what a message may carry.
  void sendEvent(const msg::Event& event);
  // Sends the deltas of `out` and empties it.
  void sendDeltas(std::vector<msg::Event>& out);
  // Sends query `id`'s held delta text: something else of it follows.
  void flushDelta(uint64_t id, bool finished);
  // --- residency (session_table_live_slots.cpp)
  // Marks a session as having something to do.
  void wakeUp(Session& session) { awake_.insert(&session); }
  // Registers a new session with the live budget's index.
  void track(Session& session);
  // Drops a finished session from every index, then destroys it.
  void forget(Session* session);
  // Hands free live slots to waiting sessions; hibernates idle ones to make room.
  void balanceLive();
  // Puts session `serial` in the spawn line: in the prompted line if `prompted` (it has
  // prompts queued), else in the plain line unless it waits already.
  void enterSpawnLine(uint64_t serial, bool prompted);
  // Starts a new round of spawns and spawns the sessions that waited for their turn: those
  // with prompts queued first, then the others, each line oldest first.
  void spawnWaiting();
  // Spawns from `line` (prompted_line_ if `prompted`) until the round is full.
  void serveSpawnLine(std::deque<uint64_t>& line, bool prompted);
  // Sends `load` when the counts changed (at most every kLoadInterval).
  void reportLoad(TimePoint now);
  // Stops polling sessions that have nothing to do.
  void pruneDormant();
  Session* holder(uint64_t serial) const;

  const SessionContext& context_;                             // shared session settings
  uint32_t capacity_;                                         // most sessions hosted at once
  Outbox outbox_;                                             // to the broker
  LinkBacklog link_backlog_ = [] { return false; };           // see watchLinkBacklog()
  DeltaCoalescer deltas_;                                     // streamed deltas held to merge
  std::vector<msg::Event> merged_;                            // scratch: deltas to send now
  std::map<std::string, std::unique_ptr<Session>> sessions_;  // current copies by name
  std::vector<std::unique_ptr<Session>> retired_;             // replaced copies, stopping
  std::map<std::string, uint64_t> deferred_;                  // name -> assign id waiting to start
  std::unordered_map<uint64_t, Session*> query_owners_;       // query id -> its session
  LiveBudget budget_;                                         // live CLI slots (--max-live)
  std::unordered_map<uint64_t, Session*> holders_;            // serial -> session
  std::unordered_set<Session*> awake_;                        // sessions polled and timed
  std::optional<msg::Load> load_sent_;                        // the counts the broker last heard
  TimePoint load_sent_at_{};                                  // when
  bool load_due_ = false;               // changed counts wait for the interval
  std::size_t spawns_in_round_ = 0;     // CLIs spawned since spawnWaiting()
  std::deque<uint64_t> spawn_line_;     // serials waiting for their turn, oldest first
  std::deque<uint64_t> prompted_line_;  // those of them with prompts queued, served first
  // Serials waiting for their turn -> whether in prompted_line_ (both lines may still hold
  // ones that left since, and spawn_line_ ones that moved to prompted_line_).
  std::unordered_map<uint64_t, bool> in_spawn_line_;
};

}  // namespace ccmesh::worker
