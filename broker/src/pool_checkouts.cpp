#include "pool_checkouts.hpp"

#include <algorithm>

namespace ccmesh::broker {
namespace {

// The longest a checkout waits for a free member.
constexpr Millis kMaxWait{24 * 60 * 60 * 1000};

}  // namespace

PoolCheckouts::PoolCheckouts(SessionRouter& router, PoolRegistry& pools, PoolQueryRouter& queries)
    : router_(router), pools_(pools), queries_(queries) {}

void PoolCheckouts::checkout(const std::string& client, const std::string& caller, PoolEntry& pool,
                             const msg::PoolCheckout& request) {
  // The handler refused anything above kMaxLease.
  const Millis lease = request.lease_ms == 0 ? kDefaultLease : Millis(request.lease_ms);
  grantWaiting(pool);  // earlier checkouts first
  WaitingCheckout checkout{client, caller, request.id, lease, {}};
  if (pool.waiting.empty() && grant(checkout, pool)) return;
  if (request.timeout_ms == 0) {
    ++pool.exhausted;
    router_.replyError(client, request.id, ErrorCode::kPoolExhausted,
                       "no member of pool " + pool.name + " is idle");
    return;
  }
  // Compared as sent: a huge uint64 must not turn negative as a Millis.
  const auto wait = std::min<uint64_t>(request.timeout_ms, static_cast<uint64_t>(kMaxWait.count()));
  checkout.deadline = router_.clock().now() + Millis(wait);
  pools_.addWaiting(pool, std::move(checkout));
}

void PoolCheckouts::checkin(const std::string& client, const std::string& caller, PoolEntry& pool,
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
  const bool holder =
      member->holder == client || (!caller.empty() && member->holder_name == caller);
  if (request.lease_id == 0 && !holder) {
    // Otherwise anyone could release (and then take) a member another client holds.
    router_.replyError(client, request.id, ErrorCode::kBadRequest,
                       "member " + request.member + " of pool " + pool.name +
                           " is checked out by another client; a checkin needs the lease id "
                           "its checkout returned (--lease-id)");
    return;
  }
  pools_.checkIn(pool, *member);
  router_.outbox().toClientBody(client, MessageType::kResult,
                                msg::CheckinResult{request.id, pool.name, request.member});
  grantWaiting(pool);
}

bool PoolCheckouts::cancel(const std::string& client, uint64_t client_id) {
  auto pool = pools_.cancelWaiting(client, client_id);
  if (!pool) return false;
  router_.log().debug("[pool {}] waiting checkout {} cancelled by its client", *pool, client_id);
  router_.replyError(client, client_id, ErrorCode::kCancelled, "cancelled by the client");
  return true;
}

void PoolCheckouts::grantWaiting(PoolEntry& pool) {
  while (!pool.waiting.empty()) {
    if (!grant(pool.waiting.front(), pool)) return;
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
                       "no member of pool " + name + " became idle before the deadline");
  }
  for (const auto& [name, pool] : pools_.entries()) {
    if (!pool.waiting.empty()) grantWaiting(*pools_.find(name));
  }
}

bool PoolCheckouts::grant(const WaitingCheckout& checkout, PoolEntry& pool) {
  auto* member = queries_.pickIdle(pool);
  if (member == nullptr) return false;
  const uint64_t lease_id = pools_.checkOut(pool, *member, router_.clock().now() + checkout.lease,
                                            checkout.client, checkout.caller);
  const auto* entry = router_.sessions().find(member->name);
  router_.log().debug("[pool {}] [session {}] checked out, lease {} for {} ms", pool.name,
                      member->name, lease_id, checkout.lease.count());
  router_.outbox().toClientBody(
      checkout.client, MessageType::kResult,
      msg::CheckoutResult{checkout.client_id, pool.name, member->name, entry ? entry->worker : "",
                          lease_id, static_cast<uint64_t>(checkout.lease.count())});
  return true;
}

}  // namespace ccmesh::broker
