#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <msgpack.hpp>
#include <string>
#include <vector>

#include "ccmesh/common/session_options.hpp"
#include "ccmesh/common/usage.hpp"

// Bodies exchanged only between broker (backend ROUTER) and workers (DEALER).
namespace ccmesh::msg {

// `session` (worker -> broker): a session's state changed on its worker.
struct SessionUpdate {
  std::string session;
  uint64_t generation = 0;
  std::string state;  // starting, idle, busy, restarting, stopping, stopped, failed,
                      // hibernating, hibernated
  int64_t pid = 0;
  std::string session_id;
  uint32_t restarts = 0;
  uint64_t turns = 0;
  std::string last_error;

  uint32_t recycles = 0;      // CLI restarts for exceeding max_rss_mb (not counted in restarts)
  uint64_t rss_kb = 0;        // the CLI's resident memory at the last probe (0: no CLI)
  uint64_t last_used_ms = 0;  // time since its last turn ended (or it was placed), when sent
  // Transcript positions (docs/SESSIONS.md "What survives which failure"): the position of
  // the last entry of conversation `session_id` this copy has mirrored (0: none, or the
  // worker does not mirror), so the broker knows what a whole copy holds.
  uint64_t mirrored = 0;
  // Non-empty: this copy runs a conversation that was cut (entries are missing), and says
  // where and why; its queries get conversation_incomplete until a restart accepts the cut
  // (--from-cut) or starts afresh.
  std::string cut{};
  // What the session's turns have used over its whole life (the `usage` its `assign` carried,
  // plus every turn since), so a restarted broker gets its totals back.
  Usage usage{};
  MSGPACK_DEFINE_MAP(session, generation, state, pid, session_id, restarts, turns, last_error,
                     recycles, rss_kb, last_used_ms, mirrored, cut, usage)
};

// One session a worker holds, as reported in `ready`.
struct SessionReport {
  SessionUpdate update;
  SessionOptions options;
  MSGPACK_DEFINE_MAP(update, options)
};

// `ready` (worker -> broker): a worker (re)connects. Sent first, and again after the worker
// reconnects.
struct Ready {
  std::string worker;                         // unique worker id (also its routing id)
  uint32_t capacity = 0;                      // how many sessions it may host
  std::map<std::string, std::string> labels;  // placement labels
  std::vector<SessionReport> sessions;        // sessions it still holds
  std::string version;
  uint64_t seq = 0;        // taken from the worker's heartbeat counter: `welcome` acks it, and the
                           // worker's lease counts from when it sent this `ready`
  bool rejoining = false;  // the worker was welcomed by a broker before: it is reconnecting

  // Its live budget, as in `load`.
  uint32_t max_live = 0;    // live CLI processes it allows at once (0: no limit besides capacity)
  uint32_t live = 0;        // CLI processes alive now
  uint32_t hibernated = 0;  // sessions it holds without a CLI process
  MSGPACK_DEFINE_MAP(worker, capacity, labels, sessions, version, seq, rejoining, max_live, live,
                     hibernated)
};

// `load` (worker -> broker): how many of its sessions have a CLI process; sent when the
// numbers change (at most every 100 ms), so placement can prefer workers with spare live
// slots.
struct Load {
  uint32_t max_live = 0;    // as in `ready`
  uint32_t live = 0;        // CLI processes alive now
  uint32_t hibernated = 0;  // sessions held without a CLI process
  MSGPACK_DEFINE_MAP(max_live, live, hibernated)
};

// `welcome` (broker -> worker): answer to `ready`, with the heartbeat settings to use.
struct Welcome {
  uint64_t heartbeat_ms = 1000;
  uint32_t liveness = 3;
  uint64_t ack = 0;   // the `seq` of the `ready` it answers (renews the worker's lease)
  uint64_t term = 0;  // the leader's term (high availability); 0: a single broker
  MSGPACK_DEFINE_MAP(heartbeat_ms, liveness, ack, term)
};

// `rejoin` (broker -> worker): the broker does not know this worker (it restarted, or
// declared the worker dead); the worker sends `ready` again with the sessions it holds.
struct Rejoin {
  std::string reason;  // for the worker's log
  MSGPACK_DEFINE_MAP(reason)
};

// `heartbeat` (both ways). The worker numbers its own; the broker echoes the last number it
// received from that worker in `ack`, at once and on its own timer. An ack renews the
// worker's lease, counted from when the worker sent the heartbeat acknowledged.
struct Heartbeat {
  uint64_t seq = 0;
  uint64_t ack = 0;
  uint64_t term = 0;  // broker -> worker: the leader's term (0: a single broker)
  MSGPACK_DEFINE_MAP(seq, ack, term)
};

// `assign` (broker -> worker): host this session. Answered with `result` (Ack) once its CLI
// is spawned, or `error`; id 0 (sessions from the sessions file) wants no answer.
struct Assign {
  uint64_t id = 0;
  std::string session;
  uint64_t generation = 0;
  SessionOptions options;
  // A conversation to continue (docs/SESSIONS.md "What survives which failure"): the worker
  // writes `transcript` (JSONL, one entry a line) where the CLI keeps the transcript of
  // `session_id` and starts it with --resume=<session_id>. Both empty: a new conversation.
  std::string session_id{};
  std::string transcript{};
  // The worker the name leaves (failover or move); empty on a first placement. A moved
  // session that cannot run here (its cwd is missing) is held FAILED instead of refused.
  std::string moved_from{};
  // Non-empty: `transcript` is not the whole conversation (the broker's copy has a gap or
  // lost its end); the session starts from it but refuses queries with
  // conversation_incomplete, saying this, until a restart accepts the cut or starts afresh.
  std::string cut{};
  // What the session used before this placement (zeros on a first placement): the worker
  // adds every turn to it and reports it in `session` updates.
  Usage usage{};
  // The session forks `session_id`: its CLI starts with --resume=<session_id> --fork-session
  // and a new conversation id of its own, so `transcript` stays that conversation's.
  bool fork = false;
  // The term of the leader that sends it (high availability; 0: a single broker). A worker
  // refuses an assignment from an older term than one it has seen.
  uint64_t term = 0;
  MSGPACK_DEFINE_MAP(id, session, generation, options, session_id, transcript, moved_from, cut,
                     usage, fork, term)
};

// `budget` (broker -> worker): a session's cluster-side budget changed (`budget` request):
// the worker keeps the new values in the session's options and usage, so that it reports
// them in `ready` to a broker that restarted. With an `id`, it answers once it keeps them:
// an Ack `result` with that id (or `not_found` if it holds no such copy); without, nothing.
struct BudgetUpdate {
  std::string session;
  uint64_t generation = 0;
  double budget_usd = 0;        // its options' budget_usd
  double pool_budget_usd = 0;   // its options' pool_budget_usd
  double counted_from_usd = 0;  // its usage's counted_from_usd
  uint64_t id = 0;              // the broker's request waiting for this (0: none)
  MSGPACK_DEFINE_MAP(session, generation, budget_usd, pool_budget_usd, counted_from_usd, id)
};

// `transcript_append` (worker -> broker): transcript entries a session's CLI mirrored
// (--session-mirror), in order, sent as they come and at most kMaxBatchBytes of entries each.
// Every entry has a position in its conversation (1 for the first line of its transcript);
// the worker keeps each batch until a `transcript_ack` covers it and sends the ones still
// unacknowledged again after it (re-)registers, so the broker stores each position once
// (duplicates dropped) and sees a gap as one.
struct TranscriptAppend {
  static constexpr std::size_t kMaxBatchBytes = 1u << 20;  // entries' bytes in one message
  static constexpr std::size_t kMaxEntryBytes = 4u << 20;  // longer entries are dropped

  std::string session;
  uint64_t generation = 0;
  std::string session_id;            // the conversation the entries belong to
  std::vector<std::string> entries;  // one JSON object each, as the CLI printed it
  uint64_t dropped = 0;  // mirrored entries the worker dropped (malformed or oversized) since
                         // its previous batch for this session
  uint64_t first = 0;    // the position of entries[0] (0: unknown, appended at the end)
  // The entries are the conversation from position 1 on, read from the CLI's transcript on
  // the worker's disk: they replace the broker's copy (sent when an ack shows the broker
  // lacks entries the worker no longer keeps; further batches continue it as usual).
  bool snapshot = false;
  MSGPACK_DEFINE_MAP(session, generation, session_id, entries, dropped, first, snapshot)
};

// `transcript_ack` (broker -> worker): the broker holds entries 1..`upto` of conversation
// `session_id` of this copy of `session` (in memory, and in its data directory when it has
// one); the worker may forget them. Sent with the next heartbeat after batches stored whole
// (at once past 256 entries), at once after a batch that was not, and after `ready` for
// every session whose copy the broker does not hold whole. An `upto` below what the worker
// can send again asks for a snapshot (TranscriptAppend::snapshot).
struct TranscriptAck {
  std::string session;
  uint64_t generation = 0;
  std::string session_id;
  uint64_t upto = 0;
  MSGPACK_DEFINE_MAP(session, generation, session_id, upto)
};

// `transcript_fetch` (worker -> broker): the CLI of this copy cannot resume its conversation
// from the worker's disk (its transcript there is missing or shorter than what it mirrored):
// send the broker's copy. Answered with `transcript_seed`.
struct TranscriptFetch {
  std::string session;
  uint64_t generation = 0;
  std::string session_id;
  uint64_t mirrored = 0;  // the position the worker's copy reached
  MSGPACK_DEFINE_MAP(session, generation, session_id, mirrored)
};

// `transcript_seed` (broker -> worker): answer to `transcript_fetch`: the broker's copy of
// the conversation (JSONL), and, when it is not whole, why (`cut`, as in Assign).
struct TranscriptSeed {
  std::string session;
  uint64_t generation = 0;
  std::string session_id;
  std::string transcript;
  uint64_t entries = 0;  // lines in transcript
  std::string cut{};
  MSGPACK_DEFINE_MAP(session, generation, session_id, transcript, entries, cut)
};

// `delivered` (worker -> broker): the prompt of query `id` was written to the CLI.
struct Delivered {
  uint64_t id = 0;
  MSGPACK_DEFINE_MAP(id)
};

// `bye` (worker -> broker): the worker is shutting down; its sessions are stopping.
struct Bye {
  std::string worker;
  MSGPACK_DEFINE_MAP(worker)
};

}  // namespace ccmesh::msg
