#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ccmesh/common/session_options.hpp"

// Bodies of the requests a client sends to the broker's frontend. The broker forwards
// query, cancel, terminate and restart to the hosting worker with its own request id (and
// the session's generation); docs/PROTOCOL.md is the normative description.
namespace ccmesh::msg {

// `query`: run one prompt on a session. Ends with `result` (QueryResult) or `error`;
// `stream` asks for `event` messages (deltas) before that.
struct Query {
  uint64_t id = 0;          // request id chosen by the sender, echoed in every reply
  std::string session;      // session name
  std::string prompt;       // the user prompt, UTF-8
  bool stream = false;      // send delta events as the answer is produced
  uint64_t timeout_ms = 0;  // deadline from receipt (0: the session's query_timeout_ms)
  uint64_t generation = 0;  // broker -> worker only: placement the query is meant for
  MSGPACK_DEFINE_MAP(id, session, prompt, stream, timeout_ms, generation)
};

// A `query` whose strings are views: what the broker reads in place from a client's frame,
// and what it packs to forward one to a worker without copying the prompt. The same keys
// as Query, so either packs to the same message.
struct QueryView {
  uint64_t id = 0;
  std::string_view session;
  std::string_view prompt;
  bool stream = false;
  uint64_t timeout_ms = 0;
  uint64_t generation = 0;
  MSGPACK_DEFINE_MAP(id, session, prompt, stream, timeout_ms, generation)
};

// `query` as views into it.
inline QueryView viewOf(const Query& query) {
  return {query.id, query.session, query.prompt, query.stream, query.timeout_ms, query.generation};
}

// `cancel`: stop request `id` of the same sender; that request ends with `cancelled`.
// A notification: it gets no reply of its own.
struct Cancel {
  uint64_t id = 0;  // the request to cancel
  MSGPACK_DEFINE_MAP(id)
};

// `start`: register a new session and place it on a worker.
struct Start {
  uint64_t id = 0;
  std::string session;
  RequestedOptions options;  // unknown keys are refused
  // Non-empty: the new session continues this session's conversation under a conversation id
  // of its own (docs/SESSIONS.md "Forks"); that session is left as it is.
  std::string fork_of{};
  MSGPACK_DEFINE_MAP(id, session, options, fork_of)
};

// `terminate`: stop a session gently and forget its name.
struct Terminate {
  uint64_t id = 0;
  std::string session;
  uint64_t generation = 0;  // broker -> worker only
  MSGPACK_DEFINE_MAP(id, session, generation)
};

// `restart`: restart a session's CLI; a fresh conversation unless keep_history.
struct Restart {
  uint64_t id = 0;
  std::string session;
  bool keep_history = false;
  uint64_t generation = 0;  // broker -> worker only
  // Accept a cut conversation (docs/SESSIONS.md): continue from what is left of it, which
  // keeps its history; without it a cut session restarts afresh like any restart.
  bool from_cut = false;
  MSGPACK_DEFINE_MAP(id, session, keep_history, generation, from_cut)
};

// `info`: one session's registry entry.
struct Info {
  uint64_t id = 0;
  std::string session;
  MSGPACK_DEFINE_MAP(id, session)
};

// `move`: stop a session gently on its worker and place it on `worker` with the next
// generation, carrying its transcript (admin role under CURVE).
struct Move {
  uint64_t id = 0;
  std::string session;
  std::string worker;  // the target worker's id
  MSGPACK_DEFINE_MAP(id, session, worker)
};

// `set`: changes a live session's model and/or permission mode through its CLI's control
// requests, without a restart, and keeps them in its options (a restart or a move keeps
// them). Refused with `busy` while a turn runs. Ends with `result` Ack.
struct Set {
  uint64_t id = 0;
  std::string session;
  std::string model;            // the new model; empty: unchanged
  std::string permission_mode;  // the new permission mode; empty: unchanged
  uint64_t generation = 0;      // broker -> worker only
  MSGPACK_DEFINE_MAP(id, session, model, permission_mode, generation)
};

// `context`: how full the session's context window is, as its CLI reports it (`result`
// ContextResult). A session without a running CLI answers `unavailable`.
struct ContextRequest {
  uint64_t id = 0;
  std::string session;
  uint64_t generation = 0;  // broker -> worker only
  MSGPACK_DEFINE_MAP(id, session, generation)
};

// `usage`: what the cluster's turns have used, one row per session, pool, worker or model
// (`result` UsageResult).
struct UsageRequest {
  uint64_t id = 0;
  std::string by{"session"};  // session, pool, worker or model
  MSGPACK_DEFINE_MAP(id, by)
};

// `budget`: reads or changes the cluster-side budget of a session or a pool (`name`: a
// session, else a pool). With none of add_usd, set_usd, reset it only reads. Applied in the
// order set, add, reset (`result` BudgetResult).
struct BudgetRequest {
  uint64_t id = 0;
  std::string name;
  double add_usd = 0;   // raises the budget by this much (> 0)
  double set_usd = -1;  // sets the budget to this much (>= 0; 0 removes it); < 0: unchanged
  bool reset = false;   // the budget counts from zero again (the totals stay)
  MSGPACK_DEFINE_MAP(id, name, add_usd, set_usd, reset)
};

// `transcript`: the transcript the broker keeps for a session (body as `info`).
using TranscriptRequest = Info;

// `ping`: is the broker there? `pending` lists ids of this client's requests still waiting
// for their final reply; the result says which of them the broker does not know (it
// restarted, or the client's connection is new), so that the client can end them at once.
struct Ping {
  uint64_t id = 0;
  std::vector<uint64_t> pending;
  MSGPACK_DEFINE_MAP(id, pending)
};

// `watch`: stream the broker's events as `event` replies, those of one session or one pool
// (empty: all). No final reply until `cancel` (then `cancelled`), or until the client falls
// too far behind (then `busy`).
struct Watch {
  uint64_t id = 0;
  std::string session;
  std::string pool;
  MSGPACK_DEFINE_MAP(id, session, pool)
};

// `list`, `count`, `status`, `ping`: requests that carry only their id.
struct Plain {
  uint64_t id = 0;
  MSGPACK_DEFINE_MAP(id)
};

}  // namespace ccmesh::msg
