// BrokerCore, continued: checkouts. A caller reserves one idle member of a pool (no queries
// running or queued) for its own use; pool queries and other checkouts pass it over until
// `pool_checkin` with its lease id (or from the client holding it), or until its lease
// lapses and the broker takes it back (counted in the pool's reclaims). A checkout that
// finds no idle member waits, in arrival order, up to its deadline (or until its client
// cancels it), then ends with pool_exhausted. Checkouts never move the rotation of pool
// queries.
#include <algorithm>

#include "core/broker_core.hpp"

namespace ccmesh::broker {
namespace {

// The longest a checkout waits for a free member.
constexpr Millis kMaxWait{24 * 60 * 60 * 1000};

}  // namespace

void BrokerCore::checkout(const std::string& client, const std::string& caller,
                          const msg::PoolCheckout& request) {
  if (findPool(client, request.id, request.pool) == nullptr) return;
  auto& pool = *pools_.find(request.pool);
  // The handler refused anything above kMaxLease.
  const Millis lease = request.lease_ms == 0 ? kDefaultLease : Millis(request.lease_ms);
  grantWaiting(pool);  // earlier checkouts first
  WaitingCheckout checkout{client, caller, request.id, lease, {}};
  if (pool.waiting.empty() && grant(checkout, pool)) return;
  if (request.timeout_ms == 0) {
    ++pool.exhausted;
    replyError(client, request.id, ErrorCode::kPoolExhausted,
               "no member of pool " + pool.name + " is idle");
    return;
  }
  // Compared as sent: a huge uint64 must not turn negative as a Millis.
  const auto wait = std::min<uint64_t>(request.timeout_ms, static_cast<uint64_t>(kMaxWait.count()));
  checkout.deadline = clock_.now() + Millis(wait);
  pools_.addWaiting(pool, std::move(checkout));
}

void BrokerCore::checkin(const std::string& client, const std::string& caller,
                         const msg::PoolCheckin& request) {
  if (findPool(client, request.id, request.pool) == nullptr) return;
  auto& pool = *pools_.find(request.pool);
  auto* member = PoolRegistry::member(pool, request.member);
  if (member == nullptr) {
    replyError(client, request.id, ErrorCode::kNotFound,
               "pool " + pool.name + " has no member " + request.member);
    return;
  }
  if (member->lease_id == 0 || (request.lease_id != 0 && request.lease_id != member->lease_id)) {
    replyError(client, request.id, ErrorCode::kNotFound,
               "member " + request.member + " of pool " + pool.name +
                   " is not checked out under that lease (it may have lapsed)");
    return;
  }
  const bool holder =
      member->holder == client || (!caller.empty() && member->holder_name == caller);
  if (request.lease_id == 0 && !holder) {
    // Otherwise anyone could release (and then take) a member another client holds.
    replyError(client, request.id, ErrorCode::kBadRequest,
               "member " + request.member + " of pool " + pool.name +
                   " is checked out by another client; a checkin needs the lease id "
                   "its checkout returned (--lease-id)");
    return;
  }
  pools_.checkIn(pool, *member);
  events_.emit(event::MemberCheckedIn{pool.name, request.member});
  reply(client, MessageType::kResult, msg::CheckinResult{request.id, pool.name, request.member});
  grantWaiting(pool);
}

void BrokerCore::grantWaiting(PoolEntry& pool) {
  while (!pool.waiting.empty()) {
    if (!grant(pool.waiting.front(), pool)) return;
    pools_.takeWaiting(pool);
  }
}

void BrokerCore::failWaitingCheckouts(PoolEntry& pool, ErrorCode code, const std::string& message) {
  while (auto waiting = pools_.takeWaiting(pool)) {
    replyError(waiting->client, waiting->client_id, code, message);
  }
}

void BrokerCore::expireCheckouts(TimePoint now) {
  for (const auto& [name, member] : pools_.reclaimLapsed(now)) {
    auto* pool = pools_.find(name);
    if (pool == nullptr) continue;
    logger_->info("[pool {}] a checkout's lease lapsed; member {} reclaimed ({} so far)", name,
                  member, pool->reclaims);
    events_.emit(event::MemberReclaimed{name, member});
    grantWaiting(*pool);
  }
  for (auto& [name, waiting] : pools_.takeExpiredWaiting(now)) {
    auto* pool = pools_.find(name);
    if (pool != nullptr) ++pool->exhausted;
    replyError(waiting.client, waiting.client_id, ErrorCode::kPoolExhausted,
               "no member of pool " + name + " became idle before the deadline");
  }
  for (const auto& [name, pool] : pools_.entries()) {
    if (!pool.waiting.empty()) grantWaiting(*pools_.find(name));
  }
}

bool BrokerCore::grant(const WaitingCheckout& checkout, PoolEntry& pool) {
  auto* member = pickIdle(pool);
  if (member == nullptr) return false;
  const uint64_t lease_id = pools_.checkOut(pool, *member, clock_.now() + checkout.lease,
                                            checkout.client, checkout.caller);
  const auto* entry = sessions_.find(member->name);
  logger_->debug("[pool {}] [session {}] checked out, lease {} for {} ms", pool.name, member->name,
                 lease_id, checkout.lease.count());
  events_.emit(event::MemberCheckedOut{pool.name, member->name, lease_id, checkout.lease});
  reply(checkout.client, MessageType::kResult,
        msg::CheckoutResult{checkout.client_id, pool.name, member->name, entry ? entry->worker : "",
                            lease_id, static_cast<uint64_t>(checkout.lease.count())});
  return true;
}

}  // namespace ccmesh::broker
