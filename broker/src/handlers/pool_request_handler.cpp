#include "handlers/pool_request_handler.hpp"

#include "peer_name.hpp"

namespace ccmesh::broker {

PoolRequestHandler::PoolRequestHandler(BrokerCore& core, AccessControl& access,
                                       RateLimitedLog& warnings)
    : core_(core), access_(access), warnings_(warnings) {}

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
    bad = Error{ErrorCode::kBadRequest, "request id must be non-zero"};
  }
  if (bad) {
    core_.refused(event::Refusal::kMalformed, peerName(client));
    warnings_.warn("[client {}] bad {}: {}", peerName(client), messageTypeName(envelope.type),
                   bad->message);
    core_.replyError(client, envelope.id, bad->code, bad->message);
    return;
  }
  then(*body);
}

void PoolRequestHandler::handle(const std::string& client, const Envelope& envelope,
                                const Caller& caller) {
  switch (envelope.type) {
    case MessageType::kPoolCreate:
      return with<msg::PoolCreate>(client, envelope, [&](auto& r) { onCreate(client, caller, r); });
    case MessageType::kPoolQuery:
      return with<msg::PoolQuery>(client, envelope, [&](auto& r) { onQuery(client, r); });
    case MessageType::kPoolCheckout:
      return with<msg::PoolCheckout>(client, envelope,
                                     [&](auto& r) { onCheckout(client, caller, r); });
    case MessageType::kPoolCheckin:
      return with<msg::PoolCheckin>(client, envelope,
                                    [&](auto& r) { core_.checkin(client, caller.name, r); });
    case MessageType::kPoolList:
      return with<msg::Plain>(client, envelope, [&](auto& r) { onList(client, r.id); });
    case MessageType::kPoolInfo:
      return with<msg::PoolNamed>(client, envelope, [&](auto& r) { onInfo(client, r); });
    case MessageType::kPoolResize:
      return with<msg::PoolResize>(client, envelope, [&](auto& r) { onResize(client, caller, r); });
    case MessageType::kPoolDelete:
      return with<msg::PoolNamed>(client, envelope, [&](auto& r) { core_.deletePool(client, r); });
    default:
      core_.replyError(client, envelope.id, ErrorCode::kBadRequest, "not a pool request");
  }
}

void PoolRequestHandler::onCreate(const std::string& client, const Caller& caller,
                                  const msg::PoolCreate& create) {
  const PoolSpec spec{create.pool, create.size, create.strategy, create.members, create.options};
  if (auto bad = spec.validate()) {
    core_.replyError(client, create.id, bad->code, bad->message);
    return;
  }
  // Members it creates count against the caller's sessions (grouped ones keep theirs).
  const bool creates = create.members.empty() && core_.pools().find(create.pool) == nullptr;
  if (auto refused = access_.admitNewSessions(caller, client, creates ? create.size : 0)) {
    core_.replyError(client, create.id, refused->code, refused->message);
    return;
  }
  core_.createPool(client, create, caller.name);
}

void PoolRequestHandler::onQuery(const std::string& client, const msg::PoolQuery& query) {
  const auto limit = core_.config().max_prompt_bytes;
  if (query.prompt.size() > limit) {
    core_.replyError(client, query.id, ErrorCode::kBadRequest,
                     "prompt is " + std::to_string(query.prompt.size()) + " bytes; the limit is " +
                         std::to_string(limit) + " (--max-prompt-bytes)");
    return;
  }
  core_.submitPoolQuery(client, query);
}

void PoolRequestHandler::onCheckout(const std::string& client, const Caller& caller,
                                    const msg::PoolCheckout& checkout) {
  if (checkout.lease_ms > static_cast<uint64_t>(BrokerCore::kMaxLease.count())) {
    core_.replyError(client, checkout.id, ErrorCode::kBadRequest,
                     "lease_ms " + std::to_string(checkout.lease_ms) + " is above the maximum " +
                         std::to_string(BrokerCore::kMaxLease.count()) + " (24 h)");
    return;
  }
  core_.checkout(client, caller.name, checkout);
}

void PoolRequestHandler::onResize(const std::string& client, const Caller& caller,
                                  const msg::PoolResize& resize) {
  const auto* pool = core_.pools().find(resize.pool);
  const std::size_t before = pool != nullptr ? pool->members.size() : 0;
  const bool grows = pool != nullptr && pool->owned && resize.size > before;
  if (auto refused = access_.admitNewSessions(caller, client, grows ? resize.size - before : 0)) {
    core_.replyError(client, resize.id, refused->code, refused->message);
    return;
  }
  core_.resizePool(client, resize, caller.name);
}

msg::PoolListResult PoolRequestHandler::list(uint64_t id) const {
  msg::PoolListResult result{id, {}};
  result.pools.reserve(core_.pools().size());
  for (const auto& [name, pool] : core_.pools().entries()) {
    result.pools.push_back(core_.describe(pool));
  }
  return result;
}

void PoolRequestHandler::onList(const std::string& client, uint64_t id) {
  core_.reply(client, MessageType::kResult, list(id));
}

void PoolRequestHandler::onInfo(const std::string& client, const msg::PoolNamed& info) {
  if (const auto* pool = core_.findPool(client, info.id, info.pool)) {
    core_.reply(client, MessageType::kResult, msg::PoolInfoResult{info.id, core_.describe(*pool)});
  }
}

}  // namespace ccmesh::broker
