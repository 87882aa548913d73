#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ccmesh/broker/pool_registry.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/expected.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "pool_checkouts.hpp"
#include "pool_hooks.hpp"
#include "pool_membership.hpp"
#include "pool_query_router.hpp"
#include "rate_limited_log.hpp"
#include "session_router.hpp"

namespace ccmesh::broker {

// What the broker does with the pool requests of clients (pool_create, pool_query,
// pool_checkout, pool_checkin, pool_list, pool_info, pool_resize, pool_delete), and what the
// pools hear from the SessionRouter (PoolHooks). Never throws on client input: bad input
// gets `error` bad_request.
class PoolRequestHandler final : public PoolHooks {
 public:
  PoolRequestHandler(SessionRouter& router, PoolRegistry& pools, RateLimitedLog& warnings);

  // True for the message types handle() takes.
  static bool handles(MessageType type);

  // Handles one decoded pool request from client `client` (its routing id); `caller` is the
  // allow-list name of its key (empty without CURVE).
  void handle(const std::string& client, const Envelope& envelope, const std::string& caller = {});

  // A `cancel` of request `id` that named no request in flight: ends the client's waiting
  // checkout of that id, if any. False if there is none.
  bool cancelCheckout(const std::string& client, uint64_t id) {
    return checkouts_.cancel(client, id);
  }

  // Creates the pools of a sessions file (after its sessions); problems are logged.
  void addPools(const std::vector<PoolSpec>& specs);

  // Lease and checkout timers: see PoolCheckouts.
  void expire(TimePoint now) { checkouts_.expire(now); }
  std::optional<TimePoint> nextDeadline() const { return checkouts_.nextDeadline(); }

  // PoolHooks
  bool onPoolQueryReply(BrokerRequest& request, MessageType type, msgpack::sbuffer& body) override;
  void onSessionAdopted(const SessionEntry& entry) override;
  bool holdsCheckout(const std::string& client, uint64_t id) const override {
    return pools_.isWaiting(client, id);
  }

 private:
  void onCreate(const std::string& client, const msg::PoolCreate& create);
  void onQuery(const std::string& client, const msg::PoolQuery& query);
  void onCheckout(const std::string& client, const std::string& caller,
                  const msg::PoolCheckout& checkout);
  void onCheckin(const std::string& client, const std::string& caller,
                 const msg::PoolCheckin& checkin);
  void onList(const std::string& client, uint64_t id);
  void onInfo(const std::string& client, const msg::PoolNamed& info);
  void onResize(const std::string& client, const msg::PoolResize& resize);
  void onDelete(const std::string& client, const msg::PoolNamed& remove);

  // The pool a request names, or nullptr after answering bad_request or not_found.
  PoolEntry* findPool(const std::string& client, uint64_t id, const std::string& name);

  // Decodes a body and runs `then` with it, or answers bad_request and counts it.
  template <class T, class F>
  void with(const std::string& client, const Envelope& envelope, F&& then);

  SessionRouter& router_;      // sessions, requests, replies
  PoolRegistry& pools_;        // the pools
  RateLimitedLog& warnings_;   // rate-limited warnings about bad input
  PoolMembership membership_;  // which sessions make up each pool
  PoolQueryRouter queries_;    // pool queries and member picks
  PoolCheckouts checkouts_;    // checkouts, leases, waiting checkouts
};

}  // namespace ccmesh::broker
