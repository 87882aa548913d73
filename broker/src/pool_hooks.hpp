#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string>

#include "ccmesh/broker/request_table.hpp"
#include "ccmesh/broker/session_registry.hpp"
#include "ccmesh/common/message_type.hpp"

namespace ccmesh::broker {

// What the SessionRouter tells the pools while it works, so that it knows nothing else of
// them. Implemented by PoolRequestHandler.
class PoolHooks {
 public:
  virtual ~PoolHooks() = default;

  // The final reply of a pool query (request.pool is set) is about to go to its client;
  // `body` is encoded for the client and may be amended. True when the pools took the
  // request over instead (a member refused it: it is retried on another member, or ends
  // with pool_exhausted); the router then neither sends the reply nor forgets the request.
  virtual bool onPoolQueryReply(BrokerRequest& request, MessageType type,
                                msgpack::sbuffer& body) = 0;

  // The registry adopted a session a worker reported holding (after a broker restart, its
  // pool membership comes with it).
  virtual void onSessionAdopted(const SessionEntry& entry) = 0;

  // True if a pool checkout `id` of client `client` (routing id) waits for a member: a
  // request in flight that is not in the RequestTable.
  virtual bool holdsCheckout(const std::string& client, uint64_t id) const = 0;
};

}  // namespace ccmesh::broker
