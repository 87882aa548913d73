#pragma once

#include <cstdint>
#include <map>
#include <msgpack.hpp>
#include <string>
#include <vector>

#include "ccmesh/common/session_options.hpp"
#include "ccmesh/common/usage.hpp"

// Bodies of `event`, `result` and `error`: what travels back to the sender of a request.
namespace ccmesh::msg {

// `event`: one piece of a streamed answer. seq starts at 0 and grows by one per event of a
// request, so a client can detect a gap.
struct Event {
  uint64_t id = 0;
  uint64_t seq = 0;
  std::string kind;  // "delta": a piece of the answer text
  std::string text;
  MSGPACK_DEFINE_MAP(id, seq, kind, text)
};

// One of the broker's own events, as a `watch` shows it. `kind` is its type (worker_lost,
// session_moved, ...), `seq` the broker's event number (gaps: events the filter left out),
// `text` one line for people, `time_ms` when it happened (Unix epoch, ms) and `fields` what
// it carries (every value a string). `id` is 0 inside a FeedBatch.
struct FeedEvent {
  uint64_t id = 0;
  uint64_t seq = 0;
  std::string kind;
  std::string text;
  uint64_t time_ms = 0;
  std::map<std::string, std::string> fields{};
  MSGPACK_DEFINE_MAP(id, seq, kind, text, time_ms, fields)
};

// `event` of a `watch`: the watch's events since its last one, oldest first (at least one).
struct FeedBatch {
  uint64_t id = 0;
  std::vector<FeedEvent> events;
  MSGPACK_DEFINE_MAP(id, events)
};

// `error`: the final reply of a failed request.
struct ErrorReply {
  uint64_t id = 0;
  std::string code;     // a stable error code (docs/PROTOCOL.md)
  std::string message;  // for humans
  std::string partial;  // answer text produced before the failure, if any
  std::string session;  // the session concerned, if any
  // not_leader: the endpoint of the broker that leads (the frontend for clients, the
  // backend for workers); empty otherwise.
  std::string leader{};
  MSGPACK_DEFINE_MAP(id, code, message, partial, session, leader)
};

// One broker of a high-availability cluster, as `status` shows it.
struct HaMember {
  std::string name;      // --ha-name
  std::string frontend;  // where clients reach it
  bool leader = false;   // it holds the leader key
  MSGPACK_DEFINE_MAP(name, frontend, leader)
};

// High availability as the answering broker (the leader) sees it; empty without --ha-etcd.
struct HaStatus {
  std::string role;   // "leader", "standby" or "candidate"; "": a single broker
  std::string name;   // this broker's --ha-name
  uint64_t term = 0;  // the leader's term
  std::string cluster;
  std::vector<HaMember> members;  // every broker with a live lease in etcd
  MSGPACK_DEFINE_MAP(role, name, term, cluster, members)
};

// `result` of a query.
struct QueryResult {
  uint64_t id = 0;
  std::string session;     // the session that answered
  std::string text;        // the whole answer
  std::string session_id;  // the CLI's conversation id
  std::string worker;      // the worker that ran the turn
  uint64_t duration_ms = 0;
  double cost_usd = 0;
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
  std::string pool{};  // pool_query: the pool whose member (`session`) answered; else empty
  // With the session's json_schema: the answer as a JSON value's text (structured output);
  // else empty.
  std::string structured{};
  MSGPACK_DEFINE_MAP(id, session, text, session_id, worker, duration_ms, cost_usd, input_tokens,
                     output_tokens, pool, structured)
};

// `result` of start, terminate and restart.
struct Ack {
  uint64_t id = 0;
  std::string session;
  std::string worker;       // where the session is (or was) placed; empty if nowhere yet
  uint64_t generation = 0;  // its placement generation
  std::string state;        // its state after the request
  MSGPACK_DEFINE_MAP(id, session, worker, generation, state)
};

// One session as the broker knows it.
struct SessionInfo {
  std::string name;
  std::string worker;        // hosting worker id, empty while pending
  uint64_t generation = 0;   // placement generation (grows on every re-placement)
  std::string state;         // pending, starting, idle, busy, restarting, stopping, failed, ...
  int64_t pid = 0;           // CLI process id on its worker (0: none)
  std::string session_id;    // CLI conversation id
  uint32_t restarts = 0;     // restarts of the CLI since the session was placed
  uint32_t queue_depth = 0;  // prompts accepted and not yet finished, the running one included
  uint64_t turns = 0;        // turns completed
  std::string last_error;    // why it last crashed or failed
  SessionOptions config;     // the options it was started with
  std::string creator;       // allow-list name of the client that started it (CURVE); else empty

  uint32_t recycles = 0;      // CLI restarts for exceeding max_rss_mb since placement
  uint64_t rss_kb = 0;        // the live CLI's resident memory (0: no CLI process)
  uint64_t last_used_ms = 0;  // time since its last turn ended (or it was placed)

  // The transcript the broker keeps for it (docs/SESSIONS.md "What survives which failure").
  uint64_t transcript_bytes = 0;    // entries' bytes (a newline each included)
  uint64_t transcript_entries = 0;  // entries kept
  uint64_t transcript_last_ms = 0;  // when the last entry arrived, ms since the Unix epoch (0:
                                    // none)
  bool transcript_complete = true;  // the broker's copy holds the whole conversation as far as
                                    // the worker mirrored it (a move would resume it whole)
  std::string cut{};                // non-empty: the conversation was cut, where and why
                                    // (queries get conversation_incomplete)
  double cost_usd = 0;              // what its turns cost over its whole life (= usage.cost_usd)
  Usage usage{};  // what its turns used over its whole life (docs/SESSIONS.md "Cost and
                  // budgets"); its budgets are config.budget_usd and config.pool_budget_usd
  MSGPACK_DEFINE_MAP(name, worker, generation, state, pid, session_id, restarts, queue_depth, turns,
                     last_error, config, creator, recycles, rss_kb, last_used_ms, transcript_bytes,
                     transcript_entries, transcript_last_ms, transcript_complete, cut, cost_usd,
                     usage)
};

// One row of `usage`: what one session, pool, worker or model used.
struct UsageRow {
  std::string name;       // the session, pool, worker or model ("" : the CLI's default model)
  Usage usage;            // its totals (counted_from_usd: 0 for pools, workers, models)
  uint32_t sessions = 0;  // sessions counted in the row (1 for a session)
  double budget_usd = 0;  // sessions and pools: its cluster-side budget (0: none)
  double spent_usd = 0;   // sessions and pools: what the budget counts
  MSGPACK_DEFINE_MAP(name, usage, sessions, budget_usd, spent_usd)
};

// `result` of `usage`.
struct UsageResult {
  uint64_t id = 0;
  std::string by;              // session, pool, worker or model
  std::vector<UsageRow> rows;  // sorted by name
  Usage total;                 // every session's usage added up
  // Sessions and pools: totals over each session's whole life. Workers and models: the turns
  // this broker saw since it started (uptime_ms ago).
  uint64_t uptime_ms = 0;
  MSGPACK_DEFINE_MAP(id, by, rows, total, uptime_ms)
};

// `result` of `budget`: the budget after the request.
struct BudgetResult {
  uint64_t id = 0;
  std::string name;
  std::string kind;        // session or pool
  double budget_usd = 0;   // 0: none
  double spent_usd = 0;    // what the budget counts (cost since the last reset)
  double left_usd = 0;     // budget_usd - spent_usd, at least 0 (0 with no budget)
  bool exhausted = false;  // queries get budget_exhausted
  MSGPACK_DEFINE_MAP(id, name, kind, budget_usd, spent_usd, left_usd, exhausted)
};

// `result` of `transcript`.
struct TranscriptResult {
  uint64_t id = 0;
  std::string session;
  std::string session_id;        // the conversation the entries belong to
  std::string jsonl;             // the entries, one JSON object a line, oldest first
  uint64_t entries = 0;          // lines in jsonl
  uint64_t bytes = 0;            // size of jsonl
  uint64_t dropped_entries = 0;  // oldest entries dropped for the per-session bound
  uint64_t last_entry_ms = 0;    // when the last entry arrived, ms since the Unix epoch
  bool complete = true;          // the whole conversation as far as its worker mirrored it
  std::string cut{};             // when not complete: which entries are missing, and why
  MSGPACK_DEFINE_MAP(id, session, session_id, jsonl, entries, bytes, dropped_entries, last_entry_ms,
                     complete, cut)
};

// `result` of `context`: the CLI's answer to get_context_usage, as JSON text (its shape is
// the CLI's: totalTokens, maxTokens, percentage, categories, ...).
struct ContextResult {
  uint64_t id = 0;
  std::string session;
  std::string usage;
  MSGPACK_DEFINE_MAP(id, session, usage)
};

struct InfoResult {
  uint64_t id = 0;
  SessionInfo session;
  MSGPACK_DEFINE_MAP(id, session)
};

struct ListResult {
  uint64_t id = 0;
  std::vector<SessionInfo> sessions;  // sorted by name
  MSGPACK_DEFINE_MAP(id, sessions)
};

struct CountResult {
  uint64_t id = 0;
  uint64_t count = 0;                      // registered sessions
  std::map<std::string, uint64_t> states;  // sessions per state
  MSGPACK_DEFINE_MAP(id, count, states)
};

// One worker as the broker knows it.
struct WorkerInfo {
  std::string id;
  uint32_t capacity = 0;
  uint32_t sessions = 0;  // how many sessions are placed on it (a count; `list` has the names)
  std::map<std::string, std::string> labels;
  uint64_t heartbeat_age_ms = 0;  // time since the broker last heard from it

  uint32_t max_live = 0;    // live CLI processes it allows (0: no limit besides capacity)
  uint32_t live = 0;        // its sessions with a CLI process
  uint32_t hibernated = 0;  // its sessions without one
  Usage usage{};            // what the turns it ran used, since this broker started
  MSGPACK_DEFINE_MAP(id, capacity, sessions, labels, heartbeat_age_ms, max_live, live, hibernated,
                     usage)
};

struct StatusResult {
  uint64_t id = 0;
  std::string version;
  uint64_t uptime_ms = 0;
  std::vector<WorkerInfo> workers;
  uint64_t sessions = 0;          // registered sessions
  uint64_t pending_sessions = 0;  // sessions waiting for a worker
  uint64_t requests_in_flight = 0;
  uint64_t malformed_messages = 0;  // rejected frames since start
  uint64_t stale_messages = 0;      // worker messages about another generation or placement,
                                    // dropped (fencing)
  uint64_t workers_lost = 0;        // workers declared dead since start
  bool curve = false;               // CURVE authentication is on
  bool insecure = false;            // started with --insecure and without CURVE
  uint64_t refused_handshakes = 0;  // CURVE handshakes refused (key not allowed)
  uint64_t unauthorized = 0;        // messages refused for their key or role
  uint64_t refused_worker_ids = 0;  // worker messages refused: id not the key's allow-list name
  uint64_t reloads = 0;             // allow-list reloads (SIGHUP) that took effect
  uint64_t failed_reloads = 0;      // allow-list reloads refused; the lists in force stayed

  // Transcripts (docs/OPERATIONS.md "Transcripts").
  uint64_t transcript_bytes = 0;            // held in memory, all sessions
  uint64_t transcript_dropped_entries = 0;  // oldest entries dropped for --transcript-max-bytes
  uint64_t transcript_evictions = 0;        // transcripts evicted for --transcript-total-bytes
  uint64_t transcript_rejected = 0;         // mirrored entries refused (malformed, oversized)
  uint64_t transcript_write_errors = 0;     // appends to --data-dir that failed
  uint64_t transcript_duplicates = 0;       // entries received again (resent) and dropped
  uint64_t transcript_gaps = 0;             // batches refused for beginning after a missing entry
  uint64_t transcript_damaged_files = 0;    // --data-dir files read back with a torn end
  Usage usage{};                            // every registered session's usage added up
  uint64_t budget_exhausted = 0;  // queries refused budget_exhausted by the broker since start
  HaStatus ha{};                  // high availability (docs/OPERATIONS.md)
  MSGPACK_DEFINE_MAP(id, version, uptime_ms, workers, sessions, pending_sessions,
                     requests_in_flight, malformed_messages, stale_messages, workers_lost, curve,
                     insecure, refused_handshakes, unauthorized, refused_worker_ids, reloads,
                     failed_reloads, transcript_bytes, transcript_dropped_entries,
                     transcript_evictions, transcript_rejected, transcript_write_errors,
                     transcript_duplicates, transcript_gaps, transcript_damaged_files, usage,
                     budget_exhausted, ha)
};

struct PingResult {
  uint64_t id = 0;
  std::string version;
  uint64_t uptime_ms = 0;
  std::vector<uint64_t> unknown{};  // ids of the ping's `pending` this broker does not know
  MSGPACK_DEFINE_MAP(id, version, uptime_ms, unknown)
};

}  // namespace ccmesh::msg
