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
  switch (type) {
    case MessageType::kCancel:
    case MessageType::kInfo:
    case MessageType::kTranscript:
    case MessageType::kList:
    case MessageType::kCount:
    case MessageType::kStatus:
    case MessageType::kPing:
    case MessageType::kPoolList:
    case MessageType::kPoolInfo:
      return false;
    default:
      return true;
  }
}

}  // namespace

bool requiresAdmin(MessageType type) {
  switch (type) {
    case MessageType::kQuery:
    case MessageType::kCancel:
    case MessageType::kInfo:
    case MessageType::kTranscript:
    case MessageType::kList:
    case MessageType::kCount:
    case MessageType::kStatus:
    case MessageType::kPing:
    case MessageType::kPoolQuery:
    case MessageType::kPoolCheckout:
    case MessageType::kPoolCheckin:
    case MessageType::kPoolList:
    case MessageType::kPoolInfo:
      return false;
    default:
      return true;
  }
}

AccessControl::AccessControl(const BrokerConfig& config, SessionRegistry& sessions,
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
  if (user_id == nullptr) return std::nullopt;
  const std::string key(user_id);
  const AllowedKey* entry = (from_clients ? clients_ : workers_).find(key);
  if (entry == nullptr) return std::nullopt;
  return Caller{key, entry->name, entry->role};
}

Admission AccessControl::admit(const Caller& caller, const std::string& routing_id,
                               const Envelope& envelope) {
  Admission admission;
  const MessageType type = envelope.type;
  // Named lazily: most requests are queries that pass, and are only logged at debug level.
  auto who = [&] { return callerName(caller, routing_id); };
  if (requiresAdmin(type) && caller.role != ClientRole::kAdmin) {
    admission.refusal =
        Error{ErrorCode::kUnauthorized,
              "client " + who() + " has role " + std::string(roleName(caller.role)) + "; '" +
                  std::string(messageTypeName(type)) + "' needs the admin role"};
    return admission;
  }
  const bool management = requiresAdmin(type);
  if (mayStayInFlight(type)) {
    if (pendingOf(caller, routing_id) >= config_.max_pending_per_client) {
      admission.refusal =
          Error{ErrorCode::kBusy, "client " + who() + " has " +
                                      std::to_string(config_.max_pending_per_client) +
                                      " requests in flight; the limit is "
                                      "--max-pending-per-client"};
      return admission;
    }
  }
  if (!management) {
    if (mayStayInFlight(type) && logger_->should_log(spdlog::level::debug)) {
      logger_->debug("[client {}] {} (id {})", who(), messageTypeName(type), envelope.id);
    }
    return admission;
  }
  logger_->info("[client {}] {} (id {})", who(), messageTypeName(type), envelope.id);
  if (type == MessageType::kPoolCreate || type == MessageType::kPoolResize) {
    admitPoolMembers(caller, envelope, admission, who());
    return admission;
  }
  if (type != MessageType::kStart) return admission;
  auto start = decodeBody<msg::Start>(envelope);
  if (!start || sessions_.find(start->session) != nullptr) return admission;
  if (curve_ && sessionsOf(caller.name) >= config_.max_sessions_per_client) {
    admission.refusal =
        Error{ErrorCode::kBusy, "client " + who() + " already created " +
                                    std::to_string(config_.max_sessions_per_client) +
                                    " sessions; the limit is --max-sessions-per-client"};
    return admission;
  }
  admission.new_session = start->session;
  return admission;
}

void AccessControl::recordCreator(const Caller& caller, const std::string& session) {
  auto* entry = sessions_.find(session);
  if (entry == nullptr || !entry->creator.empty() || caller.name.empty()) return;
  entry->creator = caller.name;
  created_[caller.name].insert(session);
}

void AccessControl::admitPoolMembers(const Caller& caller, const Envelope& envelope,
                                     Admission& admission, const std::string& who) {
  std::string pool;
  std::size_t wanted = 0;  // members after the request
  if (envelope.type == MessageType::kPoolCreate) {
    auto create = decodeBody<msg::PoolCreate>(envelope);
    if (!create || !create->members.empty() || pools_.find(create->pool) != nullptr) return;
    pool = create->pool;
    wanted = create->size;
  } else {
    auto resize = decodeBody<msg::PoolResize>(envelope);
    const auto* entry = resize ? pools_.find(resize->pool) : nullptr;
    if (entry == nullptr || !entry->owned) return;
    pool = resize->pool;
    wanted = resize->size;
    admission.pool_members_before = entry->members.size();
  }
  admission.pool = pool;
  const std::size_t before = admission.pool_members_before;
  if (!curve_ || wanted <= before) return;
  const std::size_t added = wanted - before;
  const std::size_t owned = sessionsOf(caller.name);
  if (owned + added > config_.max_sessions_per_client) {
    admission.refusal =
        Error{ErrorCode::kBusy,
              "client " + who + " created " + std::to_string(owned) + " sessions; " +
                  std::to_string(added) + " more pool members would pass the limit of " +
                  std::to_string(config_.max_sessions_per_client) + " (--max-sessions-per-client)"};
  }
}

void AccessControl::recordPoolCreator(const Caller& caller, const std::string& pool,
                                      std::size_t before) {
  const auto* entry = pools_.find(pool);
  if (entry == nullptr || !entry->owned) return;
  for (std::size_t i = before; i < entry->members.size(); ++i) {
    recordCreator(caller, entry->members[i].name);
  }
}

std::size_t AccessControl::sessionsOf(const std::string& name) {
  auto it = created_.find(name);
  if (it == created_.end()) return 0;
  auto& names = it->second;
  for (auto session = names.begin(); session != names.end();) {
    const auto* entry = sessions_.find(*session);
    session =
        entry != nullptr && entry->creator == name ? std::next(session) : names.erase(session);
  }
  const std::size_t count = names.size();
  if (count == 0) created_.erase(it);
  return count;
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
