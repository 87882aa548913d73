#include "pool_query_router.hpp"

#include <algorithm>
#include <string_view>

#include "ccmesh/common/replies.hpp"
#include "reply_rewrite.hpp"

namespace ccmesh::broker {
namespace {

// The state a worker reports for a session that restarted too often.
constexpr std::string_view kFailedState = "failed";

// Codes a member answers without running the query: the pool may try another member.
bool isRefusal(std::string_view code) {
  return code == errorCodeName(ErrorCode::kBusy) ||
         code == errorCodeName(ErrorCode::kSessionFailed) ||
         code == errorCodeName(ErrorCode::kNotFound);
}

// The `code` of an encoded `error` body; empty when it cannot be read.
std::string errorCodeOf(const msgpack::sbuffer& body) {
  try {
    auto handle = msgpack::unpack(body.data(), body.size());
    msg::ErrorReply reply;
    handle.get().convert(reply);
    return reply.code;
  } catch (const std::exception&) {
    return {};
  }
}

// Sets the `pool` key of an encoded reply map, keeping every other key as sent (unknown
// ones included). Leaves a body that is not a map alone.
void setPoolKey(msgpack::sbuffer& body, const std::string& pool) {
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(body.data(), body.size());
  } catch (const std::exception&) {
    return;
  }
  const auto& object = handle.get();
  if (object.type != msgpack::type::MAP) return;
  body = withKey(object.via.map, "pool", pool);
}

}  // namespace

PoolQueryRouter::PoolQueryRouter(SessionRouter& router, PoolRegistry& pools)
    : router_(router), pools_(pools) {}

void PoolQueryRouter::submit(const std::string& client, PoolEntry& pool,
                             const msg::PoolQuery& query) {
  msg::Query member_query;
  member_query.id = query.id;
  member_query.prompt = query.prompt;
  member_query.stream = query.stream;
  member_query.timeout_ms = query.timeout_ms;
  if (!dispatch(client, pool, std::move(member_query), {}, router_.clock().now())) {
    exhausted(client, query.id, pool);
  }
}

bool PoolQueryRouter::onReply(BrokerRequest& request, MessageType type, msgpack::sbuffer& body) {
  auto* pool = pools_.find(request.pool);
  if (type == MessageType::kResult) {
    if (auto* member = pool ? PoolRegistry::member(*pool, request.session) : nullptr) {
      ++member->served;
    }
    setPoolKey(body, request.pool);
    return false;
  }
  if (type != MessageType::kError || pool == nullptr || request.delivered || request.client_gone) {
    return false;
  }
  if (!isRefusal(errorCodeOf(body))) return false;
  // The member refused it before it reached a CLI: safe to hand to another member.
  std::vector<std::string> refused = std::move(request.pool_refused);
  refused.push_back(request.session);
  const std::string client = request.client;
  const uint64_t client_id = request.client_id;
  const TimePoint accepted_at = request.accepted_at;
  msg::Query query = std::move(request.query);
  router_.log().debug("[pool {}] [session {}] refused query {}; trying another member", pool->name,
                      request.session, client_id);
  router_.requests().take(request.id);  // `request` is gone from here on
  if (!dispatch(client, *pool, std::move(query), std::move(refused), accepted_at)) {
    exhausted(client, client_id, *pool);
  }
  return true;
}

PoolMember* PoolQueryRouter::pick(PoolEntry& pool, PoolStrategy strategy,
                                  const std::vector<std::string>& refused) {
  if (pool.members.empty()) return nullptr;
  std::vector<PoolCandidate> candidates;
  candidates.reserve(pool.members.size());
  for (const auto& member : pool.members) {
    const auto* entry = router_.sessions().find(member.name);
    const bool usable = entry != nullptr && !entry->terminating && entry->state != kFailedState;
    const bool free = member.lease_id == 0 &&
                      std::find(refused.begin(), refused.end(), member.name) == refused.end();
    candidates.push_back(PoolCandidate{usable && free, usable && !entry->worker.empty(),
                                       router_.requests().queriesOf(member.name)});
  }
  auto chosen = selector_.choose(strategy, candidates, pool.cursor);
  if (!chosen) return nullptr;
  pool.cursor = (*chosen + 1) % pool.members.size();
  return &pool.members[*chosen];
}

PoolMember* PoolQueryRouter::pickIdle(PoolEntry& pool) {
  std::vector<PoolCandidate> candidates;
  candidates.reserve(pool.members.size());
  for (const auto& member : pool.members) {
    const auto* entry = router_.sessions().find(member.name);
    const bool usable = entry != nullptr && !entry->terminating && entry->state != kFailedState;
    const uint32_t in_flight = router_.requests().queriesOf(member.name);
    const bool idle = usable && member.lease_id == 0 && in_flight == 0 && entry->waiting.empty();
    candidates.push_back(PoolCandidate{idle, usable && !entry->worker.empty(), in_flight});
  }
  auto chosen = selector_.choose(PoolStrategy::kRoundRobin, candidates, pool.cursor);
  return chosen ? &pool.members[*chosen] : nullptr;
}

bool PoolQueryRouter::dispatch(const std::string& client, PoolEntry& pool, msg::Query query,
                               std::vector<std::string> refused, TimePoint accepted_at) {
  const auto& config = router_.config();
  while (auto* member = pick(pool, pool.strategy, refused)) {
    auto* entry = router_.sessions().find(member->name);
    const bool placed = !entry->worker.empty();
    if (!placed && entry->waiting.size() >= config.pending_limit) {
      refused.push_back(member->name);  // its broker queue is full: as good as busy
      continue;
    }
    const auto now = router_.clock().now();
    auto* request =
        router_.requests().add(client, query.id, RequestKind::kQuery, member->name, now, now);
    if (request == nullptr) {
      router_.replyError(client, query.id, ErrorCode::kBadRequest,
                         "request id " + std::to_string(query.id) + " is already in flight");
      return true;
    }
    request->accepted_at = accepted_at;
    query.session = member->name;
    request->query = std::move(query);
    request->pool = pool.name;
    request->pool_refused = std::move(refused);
    router_.enqueueWaiting(*entry, *request);
    if (placed) router_.forwardWaiting(*entry);
    return true;
  }
  return false;
}

void PoolQueryRouter::exhausted(const std::string& client, uint64_t client_id, PoolEntry& pool) {
  ++pool.exhausted;
  router_.replyError(client, client_id, ErrorCode::kPoolExhausted,
                     "every member of pool " + pool.name + " is busy, checked out or unusable (" +
                         std::to_string(pool.members.size()) + " member(s))");
}

}  // namespace ccmesh::broker
