#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ccmesh/broker/pool_registry.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "pool_query_router.hpp"
#include "session_router.hpp"

namespace ccmesh::broker {

// Checkouts: a caller reserves one idle member of a pool (no queries running or queued) for
// its own use; pool queries and other checkouts pass it over until `pool_checkin` with its
// lease id (or from the client holding it), or until its lease lapses and the broker takes
// it back (counted in the pool's reclaims). A checkout that finds no idle member waits, in
// arrival order, up to its deadline (or until its client cancels it), then ends with
// pool_exhausted. Checkouts never move the rotation of pool queries.
class PoolCheckouts {
 public:
  // Lease of a checkout that asks for none, and the longest one may ask for (a longer one is
  // refused, never cut short).
  static constexpr Millis kDefaultLease{60000};
  static constexpr Millis kMaxLease{24 * 60 * 60 * 1000};

  PoolCheckouts(SessionRouter& router, PoolRegistry& pools, PoolQueryRouter& queries);

  // Handles a client's pool_checkout (pool name and lease_ms already checked). `caller` is
  // the allow-list name of the client's key (empty without CURVE).
  void checkout(const std::string& client, const std::string& caller, PoolEntry& pool,
                const msg::PoolCheckout& request);

  // Handles a client's pool_checkin (pool name already checked). Releases the member if the
  // request names its lease, or (lease_id 0) comes from the client holding it: the same
  // connection, or the same key with CURVE.
  void checkin(const std::string& client, const std::string& caller, PoolEntry& pool,
               const msg::PoolCheckin& request);

  // The client cancelled its request `client_id`: if that is a waiting checkout, it ends
  // with `cancelled` and will not be granted. False if no such checkout waits.
  bool cancel(const std::string& client, uint64_t client_id);

  // Hands free members to the pool's waiting checkouts, oldest first.
  void grantWaiting(PoolEntry& pool);

  // Ends every waiting checkout of a pool with `code` (the pool is going away).
  void failWaiting(PoolEntry& pool, ErrorCode code, const std::string& message);

  // Reclaims lapsed leases, answers waiting checkouts whose deadline passed, and gives the
  // others another try (members may have become usable).
  void expire(TimePoint now);

  // The earliest lease end or waiting deadline, if any.
  std::optional<TimePoint> nextDeadline() const { return pools_.nextDeadline(); }

 private:
  // Reserves an idle member for one checkout and answers it; false when none is idle.
  bool grant(const WaitingCheckout& checkout, PoolEntry& pool);

  SessionRouter& router_;     // sessions, clock, replies
  PoolRegistry& pools_;       // pools, leases and waiting checkouts
  PoolQueryRouter& queries_;  // picks members
};

}  // namespace ccmesh::broker
