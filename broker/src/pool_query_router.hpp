#pragma once

#include <cstddef>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ccmesh/broker/pool_registry.hpp"
#include "ccmesh/broker/pool_selector.hpp"
#include "ccmesh/broker/request_table.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "session_router.hpp"

namespace ccmesh::broker {

// Runs pool queries: sends each to the member its pool's strategy picks, as an ordinary
// query of that member (so mailbox order, cancel, streaming and failover work as for any
// query). The broker does not know how deep the workers' queues are: a member that refuses
// a query before running it (busy, failed, gone) is passed over and the next member tried,
// so when every member refuses, the query ends with pool_exhausted at once. Results carry
// the pool's name beside the member's (`session`).
class PoolQueryRouter {
 public:
  PoolQueryRouter(SessionRouter& router, PoolRegistry& pools);

  // Accepts a client's pool_query for `pool` (names, prompt and id already checked).
  void submit(const std::string& client, PoolEntry& pool, const msg::PoolQuery& query);

  // See PoolHooks::onPoolQueryReply.
  bool onReply(BrokerRequest& request, MessageType type, msgpack::sbuffer& body);

  // Picks a member for a query or a checkout with `strategy`, among those usable (registered,
  // not stopping, not failed), not checked out and not in `refused`; advances the rotation.
  PoolMember* pick(PoolEntry& pool, PoolStrategy strategy,
                   const std::vector<std::string>& refused = {});

  // Picks a member for a checkout: usable, not checked out and idle (no queries of anyone
  // running or queued), the first by rotation from the cursor, which it leaves alone so
  // that checkouts do not disturb the pool queries' rotation. Nullptr when none is idle.
  PoolMember* pickIdle(PoolEntry& pool);

 private:
  // Hands a query to a member the pool picks; false (nothing sent) when none can take it.
  bool dispatch(const std::string& client, PoolEntry& pool, msg::Query query,
                std::vector<std::string> refused, TimePoint accepted_at);

  // Answers a pool query no member could take.
  void exhausted(const std::string& client, uint64_t client_id, PoolEntry& pool);

  SessionRouter& router_;  // sessions, requests, forwarding, replies
  PoolRegistry& pools_;    // the pools
  PoolSelector selector_;  // the strategies
};

}  // namespace ccmesh::broker
