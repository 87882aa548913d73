#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string>
#include <vector>

#include "ccmesh/common/session_options.hpp"
#include "ccmesh/common/usage.hpp"

// Bodies of the pool requests a client sends to the broker and of their results. A pool is
// a named group of sessions the broker balances pool queries over; docs/PROTOCOL.md
// ("Pools") is the normative description. `pool_list` carries only its id (msg::Plain).
namespace ccmesh::msg {

// `pool_create`: a pool of `size` new sessions NAME/0 .. NAME/size-1 started with
// `options`, or of the existing sessions `members` (then size is 0).
struct PoolCreate {
  uint64_t id = 0;                   // request id chosen by the sender
  std::string pool;                  // the pool's name
  uint32_t size = 0;                 // members to create
  std::string strategy;              // round_robin (default), least_busy or random
  RequestedOptions options;          // options of the members it creates (unknown keys refused)
  std::vector<std::string> members;  // existing sessions to group instead
  std::string fork_of{};             // non-empty: every member it creates forks this session
  MSGPACK_DEFINE_MAP(id, pool, size, strategy, options, members, fork_of)
};

// `pool_query`: a `query` on the member the pool's strategy picks. Ends like a query, with a
// QueryResult whose `session` is the member that answered and `pool` the pool.
struct PoolQuery {
  uint64_t id = 0;          // request id chosen by the sender, echoed in every reply
  std::string pool;         // the pool's name
  std::string prompt;       // the user prompt, UTF-8
  bool stream = false;      // send delta events as the answer is produced
  uint64_t timeout_ms = 0;  // as in `query`
  MSGPACK_DEFINE_MAP(id, pool, prompt, stream, timeout_ms)
};

// `pool_checkout`: reserve one member for the caller until `pool_checkin` or until the
// lease lapses; waits up to timeout_ms for a free member.
struct PoolCheckout {
  uint64_t id = 0;          // request id chosen by the sender
  std::string pool;         // the pool's name
  uint64_t lease_ms = 0;    // how long the reservation lasts without checkin (0: 60000)
  uint64_t timeout_ms = 0;  // how long to wait for a free member (0: answer at once)
  MSGPACK_DEFINE_MAP(id, pool, lease_ms, timeout_ms)
};

// `pool_checkin`: give a checked-out member back to its pool.
struct PoolCheckin {
  uint64_t id = 0;        // request id chosen by the sender
  std::string pool;       // the pool's name
  std::string member;     // the member checked out
  uint64_t lease_id = 0;  // the checkout's lease; 0: whichever lease holds the member
  MSGPACK_DEFINE_MAP(id, pool, member, lease_id)
};

// `pool_info` and `pool_delete`: requests naming one pool.
struct PoolNamed {
  uint64_t id = 0;   // request id chosen by the sender
  std::string pool;  // the pool's name
  MSGPACK_DEFINE_MAP(id, pool)
};

// `pool_resize`: make a pool that created its members have exactly `size` of them.
struct PoolResize {
  uint64_t id = 0;    // request id chosen by the sender
  std::string pool;   // the pool's name
  uint32_t size = 0;  // members it should have: NAME/0 .. NAME/size-1
  MSGPACK_DEFINE_MAP(id, pool, size)
};

// One member of a pool as `pool_info` shows it.
struct PoolMemberInfo {
  std::string name;            // the member's session name
  std::string state;           // its session state; "missing" when no such session is registered
  std::string worker;          // hosting worker, empty while pending
  uint64_t turns = 0;          // turns the session completed
  uint64_t served = 0;         // pool queries it answered
  uint32_t queue_depth = 0;    // its queries running + queued (all clients)
  bool checked_out = false;    // reserved by a checkout
  uint64_t lease_id = 0;       // the checkout's lease, 0 if not checked out
  uint64_t lease_left_ms = 0;  // time until the lease lapses
  MSGPACK_DEFINE_MAP(name, state, worker, turns, served, queue_depth, checked_out, lease_id,
                     lease_left_ms)
};

// One pool as the broker knows it.
struct PoolInfo {
  std::string name;      // the pool's name
  std::string strategy;  // round_robin, least_busy or random
  bool owned = false;    // the pool created its members: delete and resize terminate them
  uint32_t size = 0;     // number of members
  std::vector<PoolMemberInfo> members;  // in rotation order
  uint32_t checked_out = 0;             // members checked out now
  uint32_t waiting_checkouts = 0;       // checkouts waiting for a free member
  uint64_t reclaims = 0;                // leases that lapsed and were taken back
  uint64_t exhausted = 0;               // requests answered pool_exhausted
  Usage usage{};                        // its members' usage added up (counted_from_usd: 0)
  double budget_usd = 0;                // its cluster-side budget (0: none)
  double spent_usd = 0;                 // what its members' budgets count, added up
  MSGPACK_DEFINE_MAP(name, strategy, owned, size, members, checked_out, waiting_checkouts, reclaims,
                     exhausted, usage, budget_usd, spent_usd)
};

// `result` of pool_create, pool_info, pool_resize and pool_delete.
struct PoolInfoResult {
  uint64_t id = 0;  // the request's id
  PoolInfo pool;    // the pool (pool_delete: as it was)
  MSGPACK_DEFINE_MAP(id, pool)
};

// `result` of pool_list.
struct PoolListResult {
  uint64_t id = 0;              // the request's id
  std::vector<PoolInfo> pools;  // sorted by name
  MSGPACK_DEFINE_MAP(id, pools)
};

// `result` of pool_checkout.
struct CheckoutResult {
  uint64_t id = 0;        // the request's id
  std::string pool;       // the pool's name
  std::string member;     // the reserved member: query it by name
  std::string worker;     // where it runs now (empty while pending)
  uint64_t lease_id = 0;  // pass to pool_checkin
  uint64_t lease_ms = 0;  // the lease granted
  MSGPACK_DEFINE_MAP(id, pool, member, worker, lease_id, lease_ms)
};

// `result` of pool_checkin.
struct CheckinResult {
  uint64_t id = 0;     // the request's id
  std::string pool;    // the pool's name
  std::string member;  // the member given back
  MSGPACK_DEFINE_MAP(id, pool, member)
};

}  // namespace ccmesh::msg
