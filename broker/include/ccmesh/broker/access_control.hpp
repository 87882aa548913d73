#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/broker/allow_list.hpp"
#include "ccmesh/broker/broker_config.hpp"
#include "ccmesh/broker/pool_registry.hpp"
#include "ccmesh/broker/request_table.hpp"
#include "ccmesh/broker/session_registry.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/message_type.hpp"

namespace ccmesh::broker {

// ZAP domains of the two ports. Each port checks keys against its own list, so a client's
// key cannot register as a worker and a worker's key cannot act as a client.
inline constexpr std::string_view kClientsZapDomain = "ccmesh-clients";
inline constexpr std::string_view kWorkersZapDomain = "ccmesh-workers";

// True for every request type that needs the admin role: all but query, cancel and the reads
// (info, list, count, status, ping). A type added to the protocol is admin-only until it is
// listed here as harmless.
bool requiresAdmin(MessageType type);

// Who sent a message.
struct Caller {
  std::string key;                       // Z85 public key; empty without CURVE
  std::string name;                      // its allow-list name; empty without CURVE
  ClientRole role = ClientRole::kAdmin;  // without CURVE every (local) caller is admin
};

// A client of the broker's own process (the HTTP API, through Broker::localEndpoint) under
// CURVE: admin, named "http"; it checks its own callers' roles.
inline Caller localCaller() {
  return Caller{"", std::string(kLocalCallerName), ClientRole::kAdmin};
}

// Who may connect and what each request may do. With CURVE (--curve-secret) it holds the two
// allow-lists the ZAP handler consults, names the caller of every message from the User-Id
// the handshake attached to it (so a key removed by a reload loses access on its next
// request, without dropping connections), enforces roles and per-client quotas, and records
// how many sessions each client may create. Without CURVE every caller is a local admin and only
// the pending-requests quota applies, per connection.
class AccessControl {
 public:
  // Loads the broker's secret key and both allow-lists when config.curve_secret_file is set.
  // Throws ConfigError naming the file at fault.
  // The tables are read to count what each caller holds; they are never changed here.
  AccessControl(const BrokerConfig& config, const SessionRegistry& sessions,
                const RequestTable& requests, const PoolRegistry& pools,
                std::shared_ptr<spdlog::logger> logger);

  bool curve() const { return curve_; }
  const std::string& secretKey() const { return secret_key_; }

  // The ZAP decision for `key` (Z85) connecting to the port of `domain`: the user id to hand
  // back (the key itself), or nothing to refuse it.
  std::optional<std::string> authenticate(std::string_view domain, const std::string& key) const;

  // Reads both allow-lists again (SIGHUP). On error the lists in force stay and ConfigError
  // is thrown.
  void reload();

  // Keys in force on each port.
  std::size_t clientKeys() const { return clients_.size(); }
  std::size_t workerKeys() const { return workers_.size(); }

  // The sender of a received message ([routing id][frames...]): from the User-Id property of
  // its body frames. Nothing if CURVE is on and the key is not, or no longer, allowed.
  std::optional<Caller> identify(const std::vector<zmq::message_t>& frames,
                                 bool from_clients) const;

  // Checks a client's request against the caller's role and its requests-in-flight quota
  // (from the message type alone), and logs it: a request of type `type` with request id
  // `id`. Nothing, or the error to answer.
  std::optional<Error> admit(const Caller& caller, const std::string& routing_id, MessageType type,
                             uint64_t id);

  // A request would create `added` sessions for `caller` (a start, a pool's new members):
  // nothing, or `busy` when that passes --max-sessions-per-client (CURVE only).
  std::optional<Error> admitNewSessions(const Caller& caller, const std::string& routing_id,
                                        std::size_t added) const;

 private:
  // Requests in flight and checkouts waiting for a pool member, of everything `caller` is
  // connected with (including routing_id).
  std::size_t pendingOf(const Caller& caller, const std::string& routing_id);

  const BrokerConfig& config_;              // limits and file names
  const SessionRegistry& sessions_;         // who created which session
  const RequestTable& requests_;            // requests in flight, per connection
  const PoolRegistry& pools_;               // waiting checkouts, per connection; pool sizes
  std::shared_ptr<spdlog::logger> logger_;  // "broker" component logger
  bool curve_ = false;                      // --curve-secret given
  std::string secret_key_;                  // the broker's secret key (Z85)
  AllowList clients_;                       // keys allowed on the frontend
  AllowList workers_;                       // keys allowed on the backend
  std::unordered_map<std::string, std::set<std::string>> links_;  // name -> routing ids
};

}  // namespace ccmesh::broker
