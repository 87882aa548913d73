#pragma once

#include <cstdint>
#include <string>

#include "ccmesh/broker/access_control.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "core/broker_core.hpp"
#include "rate_limited_log.hpp"

namespace ccmesh::broker {

// The pool requests a client sends (pool_create, pool_query, pool_checkout, pool_checkin,
// pool_list, pool_info, pool_resize, pool_delete): decodes and checks each one, then calls
// one verb of the BrokerCore, or answers the reads from its tables. Never throws on client
// input: bad input gets `error` bad_request.
class PoolRequestHandler {
 public:
  PoolRequestHandler(BrokerCore& core, AccessControl& access, RateLimitedLog& warnings);

  // What `pool_list` answers (also served over HTTP).
  msg::PoolListResult list(uint64_t id) const;

  // True for the message types handle() takes.
  static bool handles(MessageType type);

  // Handles one decoded pool request from client `client` (its routing id) sent by `caller`.
  void handle(const std::string& client, const Envelope& envelope, const Caller& caller);

 private:
  void onCreate(const std::string& client, const Caller& caller, const msg::PoolCreate& create);
  void onQuery(const std::string& client, const msg::PoolQuery& query);
  void onCheckout(const std::string& client, const Caller& caller,
                  const msg::PoolCheckout& checkout);
  void onResize(const std::string& client, const Caller& caller, const msg::PoolResize& resize);
  void onList(const std::string& client, uint64_t id);
  void onInfo(const std::string& client, const msg::PoolNamed& info);

  // Decodes a body and runs `then` with it, or answers bad_request and counts it.
  template <class T, class F>
  void with(const std::string& client, const Envelope& envelope, F&& then);

  BrokerCore& core_;          // the state machine
  AccessControl& access_;     // session quotas of new members
  RateLimitedLog& warnings_;  // rate-limited warnings about bad input
};

}  // namespace ccmesh::broker
