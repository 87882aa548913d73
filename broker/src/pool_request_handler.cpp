#include "pool_request_handler.hpp"

#include <algorithm>

#include "ccmesh/common/requests.hpp"
#include "peer_name.hpp"

namespace ccmesh::broker {
namespace {

Error failure(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace

PoolRequestHandler::PoolRequestHandler(SessionRouter& router, PoolRegistry& pools,
                                       RateLimitedLog& warnings)
    : router_(router),
      pools_(pools),
      warnings_(warnings),
      membership_(router, pools),
      queries_(router, pools),
      checkouts_(router, pools, queries_) {}

bool PoolRequestHandler::handles(MessageType type) {
  switch (type) {
    case MessageType::kPoolCreate:
    case MessageType::kPoolQuery:
    case MessageType::kPoolCheckout:
    case MessageType::kPoolCheckin:
    case MessageType::kPoolList:
    case MessageType::kPoolInfo:
    case MessageType::kPoolResize:
    case MessageType::kPoolDelete:
      return true;
    default:
      return false;
  }
}

template <class T, class F>
void PoolRequestHandler::with(const std::string& client, const Envelope& envelope, F&& then) {
  auto body = decodeBody<T>(envelope);
  std::optional<Error> bad;
  if (!body) {
    bad = body.error().error;
  } else if (body->id == 0) {
    bad = failure(ErrorCode::kBadRequest, "request id must be non-zero");
  }
  if (bad) {
    ++router_.stats().malformed_messages;
    warnings_.warn("[client {}] bad {}: {}", peerName(client), messageTypeName(envelope.type),
                   bad->message);
    router_.replyError(client, envelope.id, bad->code, bad->message);
    return;
  }
  then(*body);
}

void PoolRequestHandler::handle(const std::string& client, const Envelope& envelope,
                                const std::string& caller) {
  switch (envelope.type) {
    case MessageType::kPoolCreate:
      return with<msg::PoolCreate>(client, envelope, [&](auto& r) { onCreate(client, r); });
    case MessageType::kPoolQuery:
      return with<msg::PoolQuery>(client, envelope, [&](auto& r) { onQuery(client, r); });
    case MessageType::kPoolCheckout:
      return with<msg::PoolCheckout>(client, envelope,
                                     [&](auto& r) { onCheckout(client, caller, r); });
    case MessageType::kPoolCheckin:
      return with<msg::PoolCheckin>(client, envelope,
                                    [&](auto& r) { onCheckin(client, caller, r); });
    case MessageType::kPoolList:
      return with<msg::Plain>(client, envelope, [&](auto& r) { onList(client, r.id); });
    case MessageType::kPoolInfo:
      return with<msg::PoolNamed>(client, envelope, [&](auto& r) { onInfo(client, r); });
    case MessageType::kPoolResize:
      return with<msg::PoolResize>(client, envelope, [&](auto& r) { onResize(client, r); });
    case MessageType::kPoolDelete:
      return with<msg::PoolNamed>(client, envelope, [&](auto& r) { onDelete(client, r); });
    default:
      router_.replyError(client, envelope.id, ErrorCode::kBadRequest, "not a pool request");
  }
}

void PoolRequestHandler::addPools(const std::vector<PoolSpec>& specs) {
  for (const auto& spec : specs) {
    auto created = membership_.create(spec, /*strict=*/false);
    if (!created) {
      router_.log().warn("[pool {}] from the sessions file not created: {}", spec.name,
                         created.error().message);
    }
  }
}

bool PoolRequestHandler::onPoolQueryReply(BrokerRequest& request, MessageType type,
                                          msgpack::sbuffer& body) {
  return queries_.onReply(request, type, body);
}

void PoolRequestHandler::onSessionAdopted(const SessionEntry& entry) {
  if (auto* pool = membership_.adopt(entry)) checkouts_.grantWaiting(*pool);
}

void PoolRequestHandler::onCreate(const std::string& client, const msg::PoolCreate& create) {
  const PoolSpec spec{create.pool, create.size, create.strategy, create.members, create.options};
  if (auto bad = spec.validate()) {
    router_.replyError(client, create.id, bad->code, bad->message);
    return;
  }
  auto created = membership_.create(spec, /*strict=*/true);
  if (!created) {
    router_.replyError(client, create.id, created.error().code, created.error().message);
    return;
  }
  router_.outbox().toClientBody(client, MessageType::kResult,
                                msg::PoolInfoResult{create.id, membership_.describe(**created)});
}

void PoolRequestHandler::onQuery(const std::string& client, const msg::PoolQuery& query) {
  auto* pool = findPool(client, query.id, query.pool);
  if (pool == nullptr) return;
  const auto limit = router_.config().max_prompt_bytes;
  if (query.prompt.size() > limit) {
    router_.replyError(client, query.id, ErrorCode::kBadRequest,
                       "prompt is " + std::to_string(query.prompt.size()) +
                           " bytes; the limit is " + std::to_string(limit) +
                           " (--max-prompt-bytes)");
    return;
  }
  queries_.submit(client, *pool, query);
}

void PoolRequestHandler::onCheckout(const std::string& client, const std::string& caller,
                                    const msg::PoolCheckout& checkout) {
  if (checkout.lease_ms > static_cast<uint64_t>(PoolCheckouts::kMaxLease.count())) {
    router_.replyError(client, checkout.id, ErrorCode::kBadRequest,
                       "lease_ms " + std::to_string(checkout.lease_ms) + " is above the maximum " +
                           std::to_string(PoolCheckouts::kMaxLease.count()) + " (24 h)");
    return;
  }
  if (auto* pool = findPool(client, checkout.id, checkout.pool)) {
    checkouts_.checkout(client, caller, *pool, checkout);
  }
}

void PoolRequestHandler::onCheckin(const std::string& client, const std::string& caller,
                                   const msg::PoolCheckin& checkin) {
  if (auto* pool = findPool(client, checkin.id, checkin.pool)) {
    checkouts_.checkin(client, caller, *pool, checkin);
  }
}

void PoolRequestHandler::onList(const std::string& client, uint64_t id) {
  msg::PoolListResult result{id, {}};
  result.pools.reserve(pools_.size());
  for (const auto& [name, pool] : pools_.entries())
    result.pools.push_back(membership_.describe(pool));
  router_.outbox().toClientBody(client, MessageType::kResult, result);
}

void PoolRequestHandler::onInfo(const std::string& client, const msg::PoolNamed& info) {
  if (const auto* pool = findPool(client, info.id, info.pool)) {
    router_.outbox().toClientBody(client, MessageType::kResult,
                                  msg::PoolInfoResult{info.id, membership_.describe(*pool)});
  }
}

void PoolRequestHandler::onResize(const std::string& client, const msg::PoolResize& resize) {
  auto* pool = findPool(client, resize.id, resize.pool);
  if (pool == nullptr) return;
  if (auto error = membership_.resize(*pool, resize.size)) {
    router_.replyError(client, resize.id, error->code, error->message);
    return;
  }
  checkouts_.grantWaiting(*pool);
  router_.outbox().toClientBody(client, MessageType::kResult,
                                msg::PoolInfoResult{resize.id, membership_.describe(*pool)});
}

void PoolRequestHandler::onDelete(const std::string& client, const msg::PoolNamed& remove) {
  auto* pool = findPool(client, remove.id, remove.pool);
  if (pool == nullptr) return;
  checkouts_.failWaiting(*pool, ErrorCode::kNotFound, "pool " + pool->name + " was deleted");
  membership_.stopMembers(*pool);
  const auto info = membership_.describe(*pool);
  router_.log().info("[pool {}] deleted ({} member(s) {})", pool->name, pool->members.size(),
                     pool->owned ? "terminated" : "left running");
  pools_.remove(pool->name);
  router_.outbox().toClientBody(client, MessageType::kResult, msg::PoolInfoResult{remove.id, info});
}

PoolEntry* PoolRequestHandler::findPool(const std::string& client, uint64_t id,
                                        const std::string& name) {
  if (auto bad = validatePoolName(name)) {
    router_.replyError(client, id, bad->code, bad->message);
    return nullptr;
  }
  auto* pool = pools_.find(name);
  if (pool != nullptr) return pool;
  const auto now = router_.clock().now();
  if (router_.recovery().uncertain(now)) {
    // Members bring their pool back as their workers reconnect (see PoolMembership).
    const auto left = std::chrono::ceil<Millis>(router_.recovery().ends() - now).count();
    router_.replyError(client, id, ErrorCode::kUnavailable,
                       "the broker has just started and workers may still report pool " + name +
                           "; retry in " + std::to_string(std::max<int64_t>(0, left)) + " ms");
    return nullptr;
  }
  router_.replyError(client, id, ErrorCode::kNotFound, "no pool named " + name);
  return nullptr;
}

}  // namespace ccmesh::broker
