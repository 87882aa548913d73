#include "pool_checkouts.hpp"

#include <algorithm>

namespace ccmesh::broker {
namespace {

// The longest a checkout waits for a free member.
constexpr Millis kMaxWait{24 * 60 * 60 * 1000};

}  // namespace

PoolCheckouts::PoolCheckouts(SessionRouter& router, PoolRegistry& pools, PoolQueryRouter& queries)
    : router_(router), pools_(pools), queries_(queries) {}

void PoolCheckouts::checkout(const std::string& client, PoolEntry& pool,
                             const msg::PoolCheckout& request) {
  const Millis lease =
      request.lease_ms == 0 ? kDefaultLease : std::min(Millis(request.lease_ms), kMaxLease);
  grantWaiting(pool);  // earlier checkouts first
  if (pool.waiting.empty() && grant(client, request.id, pool, lease)) return;
  if (request.timeout_ms == 0) {
    ++pool.exhausted;
    router_.replyError(client, request.id, ErrorCode::kPoolExhausted,
                       "no member of pool " + pool.name + " is free");
    return;
  }
  const auto wait = std::min(Millis(request.timeout_ms), kMaxWait);
  pools_.addWaiting(pool, WaitingCheckout{client, request.id, lease, router_.clock().now() + wait});
}

void PoolCheckouts::checkin(const std::string& client, PoolEntry& pool,
                            const msg::PoolCheckin& request) {
  auto* member = PoolRegistry::member(pool, request.member);
  if (member == nullptr) {
    router_.replyError(client, request.id, ErrorCode::kNotFound,
                       "pool " + pool.name + " has no member " + request.member);
    return;
  }
  if (member->lease_id == 0 || (request.lease_id != 0 && request.lease_id != member->lease_id)) {
    router_.replyError(client, request.id, ErrorCode::kNotFound,
                       "member " + request.member + " of pool " + pool.name +
                           " is not checked out under that lease (it may have lapsed)");
    return;
  }
  pools_.checkIn(pool, *member);
  router_.outbox().toClientBody(client, MessageType::kResult,
                                msg::CheckinResult{request.id, pool.name, request.member});
  grantWaiting(pool);
}

void PoolCheckouts::grantWaiting(PoolEntry& pool) {
  while (!pool.waiting.empty()) {
    const auto& oldest = pool.waiting.front();
    if (!grant(oldest.client, oldest.client_id, pool, oldest.lease)) return;
    pools_.takeWaiting(pool);
  }
}

void PoolCheckouts::failWaiting(PoolEntry& pool, ErrorCode code, const std::string& message) {
  while (auto waiting = pools_.takeWaiting(pool)) {
    router_.replyError(waiting->client, waiting->client_id, code, message);
  }
}

void PoolCheckouts::expire(TimePoint now) {
  for (const auto& name : pools_.reclaimLapsed(now)) {
    auto* pool = pools_.find(name);
    if (pool == nullptr) continue;
    router_.log().info("[pool {}] a checkout's lease lapsed; member reclaimed ({} so far)", name,
                       pool->reclaims);
    grantWaiting(*pool);
  }
  for (auto& [name, waiting] : pools_.takeExpiredWaiting(now)) {
    auto* pool = pools_.find(name);
    if (pool != nullptr) ++pool->exhausted;
    router_.replyError(waiting.client, waiting.client_id, ErrorCode::kPoolExhausted,
                       "no member of pool " + name + " became free before the deadline");
  }
  for (const auto& [name, pool] : pools_.entries()) {
    if (!pool.waiting.empty()) grantWaiting(*pools_.find(name));
  }
}

bool PoolCheckouts::grant(const std::string& client, uint64_t client_id, PoolEntry& pool,
                          Millis lease) {
  auto* member = queries_.pick(pool, PoolStrategy::kLeastBusy);
  if (member == nullptr) return false;
  const uint64_t lease_id = pools_.checkOut(pool, *member, router_.clock().now() + lease);
  const auto* entry = router_.sessions().find(member->name);
  router_.log().debug("[pool {}] [session {}] checked out, lease {} for {} ms", pool.name,
                      member->name, lease_id, lease.count());
  router_.outbox().toClientBody(
      client, MessageType::kResult,
      msg::CheckoutResult{client_id, pool.name, member->name, entry ? entry->worker : "", lease_id,
                          static_cast<uint64_t>(lease.count())});
  return true;
}

}  // namespace ccmesh::broker
