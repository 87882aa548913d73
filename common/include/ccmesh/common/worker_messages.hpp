#pragma once

#include <cstdint>
#include <map>
#include <msgpack.hpp>
#include <string>
#include <vector>

#include "ccmesh/common/session_options.hpp"

// Bodies exchanged only between broker (backend ROUTER) and workers (DEALER).
namespace ccmesh::msg {

// `session` (worker -> broker): a session's state changed on its worker.
struct SessionUpdate {
  std::string session;
  uint64_t generation = 0;
  std::string state;  // starting, idle, busy, restarting, stopping, stopped, failed
  int64_t pid = 0;
  std::string session_id;
  uint32_t restarts = 0;
  uint64_t turns = 0;
  std::string last_error;
  MSGPACK_DEFINE_MAP(session, generation, state, pid, session_id, restarts, turns, last_error)
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
  MSGPACK_DEFINE_MAP(worker, capacity, labels, sessions, version)
};

// `welcome` (broker -> worker): answer to `ready`, with the heartbeat settings to use.
struct Welcome {
  uint64_t heartbeat_ms = 1000;
  uint32_t liveness = 3;
  MSGPACK_DEFINE_MAP(heartbeat_ms, liveness)
};

// `heartbeat` (both ways). The worker numbers its own; the broker echoes the last number it
// received from that worker in `ack`.
struct Heartbeat {
  uint64_t seq = 0;
  uint64_t ack = 0;
  MSGPACK_DEFINE_MAP(seq, ack)
};

// `assign` (broker -> worker): host this session. Answered with `result` (Ack) once its CLI
// is spawned, or `error`; id 0 (sessions from the sessions file) wants no answer.
struct Assign {
  uint64_t id = 0;
  std::string session;
  uint64_t generation = 0;
  SessionOptions options;
  MSGPACK_DEFINE_MAP(id, session, generation, options)
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
