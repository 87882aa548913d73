#include "ccmesh/broker/access_control.hpp"

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/curve_keys.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/requests.hpp"
#include "peer_name.hpp"

namespace ccmesh::broker {
namespace {

// What the log shows for a caller.
std::string callerName(const Caller& caller, const std::string& routing_id) {
  return caller.name.empty() ? "local " + peerName(routing_id) : caller.name;
}

// False for requests answered at once from the broker's tables (and cancel, which ends
// one): they never add to what a client has in flight.
bool mayStayInFlight(MessageType type) {
  return !isReadOnly(type) && type != MessageType::kCancel && type != MessageType::kPing &&
         type != MessageType::kPermissionReply;
}

}  // namespace

bool requiresAdmin(MessageType type) {
  if (isReadOnly(type)) return false;
  switch (type) {
    case MessageType::kQuery:
    case MessageType::kCancel:
    case MessageType::kPermissionReply:
    case MessageType::kContext:
    case MessageType::kPing:
    case MessageType::kWatch:
    case MessageType::kPoolQuery:
    case MessageType::kPoolCheckout:
    case MessageType::kPoolCheckin:
      return false;
    default:
      return true;
  }
}

AccessControl::AccessControl(const BrokerConfig& config, const SessionRegistry& sessions,
                             const RequestTable& requests, const PoolRegistry& pools,
                             std::shared_ptr<spdlog::logger> logger)
    : config_(config),
      sessions_(sessions),
      requests_(requests),
      pools_(pools),
      logger_(std::move(logger)),
      curve_(!config.curve_secret_file.empty()) {
  if (!curve_) return;
  if (!curveAvailable()) throw ConfigError("this libzmq was built without CURVE support");
  secret_key_ = readCurveKeyFile(config.curve_secret_file, true);
  reload();
  logger_->info("CURVE on: {} client key(s) from {}, {} worker key(s) from {}", clients_.size(),
                config.clients_allow_file, workers_.size(), config.workers_allow_file);
}

std::optional<std::string> AccessControl::authenticate(std::string_view domain,
                                                       const std::string& key) const {
  const AllowList* list = domain == kClientsZapDomain   ? &clients_
                          : domain == kWorkersZapDomain ? &workers_
                                                        : nullptr;
  if (list == nullptr || list->find(key) == nullptr) return std::nullopt;
  return key;
}

void AccessControl::reload() {
  if (!curve_) return;
  auto clients = AllowList::load(config_.clients_allow_file, AllowList::Kind::kClients);
  auto workers = AllowList::load(config_.workers_allow_file, AllowList::Kind::kWorkers);
  clients_ = std::move(clients);
  workers_ = std::move(workers);
}

std::optional<Caller> AccessControl::identify(const std::vector<zmq::message_t>& frames,
                                              bool from_clients) const {
  if (!curve_) return Caller{};
  if (frames.size() < 2) return std::nullopt;
  // The routing-id frame the ROUTER makes carries no properties; body frames do.
  const char* user_id = zmq_msg_gets(frames[1].handle(), "User-Id");
  // Every message over TCP passed the CURVE handshake and carries the key ZAP accepted;
  // only the frontend's in-process endpoint (Broker::localEndpoint) has none.
  if (user_id == nullptr) return from_clients ? std::optional(localCaller()) : std::nullopt;
  const std::string key(user_id);
  const AllowedKey* entry = (from_clients ? clients_ : workers_).find(key);
  if (entry == nullptr) return std::nullopt;
  return Caller{key, entry->name, entry->role};
}

std::optional<Error> AccessControl::admit(const Caller& caller, const std::string& routing_id,
                                          MessageType type, uint64_t id) {
  // Named lazily: most requests are queries that pass, and are only logged at debug level.
  auto who = [&] { return callerName(caller, routing_id); };
  if (requiresAdmin(type) && caller.role != ClientRole::kAdmin) {
    return Error{ErrorCode::kUnauthorized,
                 "client " + who() + " has role " + std::string(roleName(caller.role)) + "; '" +
                     std::string(messageTypeName(type)) + "' needs the admin role"};
  }
  if (mayStayInFlight(type) && pendingOf(caller, routing_id) >= config_.max_pending_per_client) {
    return Error{ErrorCode::kBusy, "client " + who() + " has " +
                                       std::to_string(config_.max_pending_per_client) +
                                       " requests in flight; the limit is "
                                       "--max-pending-per-client"};
  }
  if (requiresAdmin(type)) {
    logger_->info("[client {}] {} (id {})", who(), messageTypeName(type), id);
  } else if (mayStayInFlight(type) && logger_->should_log(spdlog::level::debug)) {
    logger_->debug("[client {}] {} (id {})", who(), messageTypeName(type), id);
  }
  return std::nullopt;
}

std::optional<Error> AccessControl::admitNewSessions(const Caller& caller,
                                                     const std::string& routing_id,
                                                     std::size_t added) const {
  if (!curve_ || added == 0) return std::nullopt;
  const std::size_t owned = sessions_.createdBy(caller.name);
  if (owned + added <= config_.max_sessions_per_client) return std::nullopt;
  return Error{ErrorCode::kBusy, "client " + callerName(caller, routing_id) + " created " +
                                     std::to_string(owned) + " sessions; " + std::to_string(added) +
                                     " more would pass the limit of " +
                                     std::to_string(config_.max_sessions_per_client) +
                                     " (--max-sessions-per-client)"};
}

std::size_t AccessControl::pendingOf(const Caller& caller, const std::string& routing_id) {
  if (caller.name.empty()) {
    return requests_.countOfClient(routing_id) + pools_.waitingOf(routing_id);
  }
  // One key may hold several connections: the quota is the key's, not a connection's.
  auto& links = links_[caller.name];
  links.insert(routing_id);
  std::size_t total = 0;
  for (auto link = links.begin(); link != links.end();) {
    const std::size_t count = requests_.countOfClient(*link) + pools_.waitingOf(*link);
    if (count == 0 && *link != routing_id) {
      link = links.erase(link);
      continue;
    }
    total += count;
    ++link;
  }
  return total;
}

}  // namespace ccmesh::broker
