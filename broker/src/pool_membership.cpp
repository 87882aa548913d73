#include "pool_membership.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <vector>

#include "ccmesh/common/limits.hpp"
#include "ccmesh/common/requests.hpp"

namespace ccmesh::broker {
namespace {

// The pseudo-client of the pools' own terminate requests: no real routing id is empty.
const std::string kPoolsClient;

// The index of member `member` of an owned pool (NAME/index), if it is one.
std::optional<uint32_t> memberIndex(const std::string& pool, const std::string& member) {
  if (member.size() <= pool.size() + 1 || member.compare(0, pool.size(), pool) != 0 ||
      member[pool.size()] != '/') {
    return std::nullopt;
  }
  const char* first = member.data() + pool.size() + 1;
  const char* last = member.data() + member.size();
  uint32_t index = 0;
  auto [end, ec] = std::from_chars(first, last, index);
  if (ec != std::errc() || end != last || index >= limits::kMaxPoolSize) return std::nullopt;
  if (std::to_string(index).size() != static_cast<std::size_t>(last - first)) {
    return std::nullopt;  // "p/01" is not a name the pool would create
  }
  return index;
}

// Where member `index` goes in an owned pool's rotation: after every smaller index.
std::size_t positionFor(const PoolEntry& pool, uint32_t index) {
  std::size_t position = 0;
  for (const auto& member : pool.members) {
    auto other = memberIndex(pool.name, member.name);
    if (other && *other > index) break;
    ++position;
  }
  return position;
}

Error failure(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace

PoolMembership::PoolMembership(SessionRouter& router, PoolRegistry& pools)
    : router_(router), pools_(pools) {}

Expected<PoolEntry*, Error> PoolMembership::create(const PoolSpec& spec, bool strict) {
  if (pools_.find(spec.name) != nullptr) {
    return failure(ErrorCode::kAlreadyExists, "pool " + spec.name + " already exists");
  }
  const auto strategy = parsePoolStrategy(spec.strategy).value_or(PoolStrategy::kRoundRobin);
  auto& sessions = router_.sessions();
  if (spec.members.empty()) {
    for (uint32_t i = 0; i < spec.size; ++i) {
      const auto name = poolMemberName(spec.name, i);
      if (sessions.find(name) != nullptr) {
        return failure(ErrorCode::kAlreadyExists, "session " + name + " already exists");
      }
    }
    SessionOptions options = spec.options;
    options.pool = spec.name;
    options.pool_strategy = std::string(poolStrategyName(strategy));
    auto* pool = pools_.add(spec.name, strategy, /*owned=*/true, options);
    for (uint32_t i = 0; i < spec.size; ++i) startMember(*pool, i);
    router_.log().info("[pool {}] created with {} member(s), {}", spec.name, spec.size,
                       poolStrategyName(strategy));
    return pool;
  }
  std::set<std::string> seen;
  for (const auto& name : spec.members) {
    if (!seen.insert(name).second) {
      return failure(ErrorCode::kBadRequest, "members: " + name + " is listed twice");
    }
    const auto* entry = sessions.find(name);
    if (strict && (entry == nullptr || entry->terminating)) {
      return failure(ErrorCode::kNotFound, "no session named " + name);
    }
    if (const auto* other = pools_.poolOf(name)) {
      return failure(ErrorCode::kAlreadyExists,
                     "session " + name + " is a member of pool " + *other + " already");
    }
  }
  auto* pool = pools_.add(spec.name, strategy, /*owned=*/false, {});
  for (const auto& name : spec.members) pools_.addMember(*pool, name);
  router_.log().info("[pool {}] created over {} existing session(s), {}", spec.name,
                     spec.members.size(), poolStrategyName(strategy));
  return pool;
}

std::optional<Error> PoolMembership::resize(PoolEntry& pool, uint32_t size) {
  if (!pool.owned) {
    return failure(ErrorCode::kBadRequest, "pool " + pool.name +
                                               " groups existing sessions; only a pool that "
                                               "created its members can be resized");
  }
  if (size == 0 || size > limits::kMaxPoolSize) {
    return failure(ErrorCode::kBadRequest,
                   "size must be 1.." + std::to_string(limits::kMaxPoolSize));
  }
  auto& sessions = router_.sessions();
  for (uint32_t i = 0; i < size; ++i) {
    const auto name = poolMemberName(pool.name, i);
    if (PoolRegistry::member(pool, name) == nullptr && sessions.find(name) != nullptr) {
      return failure(ErrorCode::kAlreadyExists, "session " + name + " already exists");
    }
  }
  std::vector<std::string> dropped;
  for (const auto& member : pool.members) {
    auto index = memberIndex(pool.name, member.name);
    if (!index || *index >= size) dropped.push_back(member.name);
  }
  for (const auto& name : dropped) {
    terminateMember(name);
    pools_.removeMember(pool, name);
  }
  for (uint32_t i = 0; i < size; ++i) {
    const auto name = poolMemberName(pool.name, i);
    if (PoolRegistry::member(pool, name) == nullptr || sessions.find(name) == nullptr) {
      startMember(pool, i);  // new, or a member whose session was terminated: start it
    }
  }
  router_.log().info("[pool {}] resized to {} member(s)", pool.name, pool.members.size());
  return std::nullopt;
}

void PoolMembership::stopMembers(PoolEntry& pool) {
  for (auto& member : pool.members) {
    pools_.checkIn(pool, member);
    if (pool.owned) terminateMember(member.name);
  }
}

PoolEntry* PoolMembership::adopt(const SessionEntry& entry) {
  const std::string& tag = entry.options.pool;
  if (tag.empty() || pools_.poolOf(entry.name) != nullptr) return nullptr;
  const auto index = memberIndex(tag, entry.name);
  if (!index) return nullptr;  // only members a pool created (NAME/i) carry their pool along
  auto* pool = pools_.find(tag);
  if (pool == nullptr) {
    const auto strategy =
        parsePoolStrategy(entry.options.pool_strategy).value_or(PoolStrategy::kRoundRobin);
    pool = pools_.add(tag, strategy, /*owned=*/true, entry.options);
    router_.log().info("[pool {}] rebuilt from the members workers report", tag);
  }
  if (!pool->owned) return nullptr;
  pools_.addMember(*pool, entry.name, positionFor(*pool, *index));
  return pool;
}

msg::PoolInfo PoolMembership::describe(const PoolEntry& pool) const {
  msg::PoolInfo info;
  info.name = pool.name;
  info.strategy = std::string(poolStrategyName(pool.strategy));
  info.owned = pool.owned;
  info.size = static_cast<uint32_t>(pool.members.size());
  info.waiting_checkouts = static_cast<uint32_t>(pool.waiting.size());
  info.reclaims = pool.reclaims;
  info.exhausted = pool.exhausted;
  const auto now = router_.clock().now();
  for (const auto& member : pool.members) {
    msg::PoolMemberInfo shown;
    shown.name = member.name;
    shown.state = "missing";  // no session of that name is registered (now)
    if (const auto* entry = router_.sessions().find(member.name)) {
      const auto session = router_.describe(*entry);
      shown.state = session.state;
      shown.worker = session.worker;
      shown.turns = session.turns;
      shown.queue_depth = session.queue_depth;
    }
    shown.served = member.served;
    shown.checked_out = member.lease_id != 0;
    shown.lease_id = member.lease_id;
    if (shown.checked_out) {
      const auto left = std::chrono::duration_cast<Millis>(member.lease_end - now).count();
      shown.lease_left_ms = static_cast<uint64_t>(std::max<int64_t>(0, left));
      ++info.checked_out;
    }
    info.members.push_back(std::move(shown));
  }
  return info;
}

void PoolMembership::startMember(PoolEntry& pool, uint32_t index) {
  const auto name = poolMemberName(pool.name, index);
  if (!router_.sessions().add(name, pool.options)) return;
  if (PoolRegistry::member(pool, name) == nullptr) {
    pools_.addMember(pool, name, positionFor(pool, index));
  }
  router_.place(name);  // stays pending when no worker has room; placed once one has
}

void PoolMembership::terminateMember(const std::string& name) {
  auto* entry = router_.sessions().find(name);
  if (entry == nullptr || entry->terminating) return;
  if (entry->worker.empty()) {
    for (uint64_t id : std::vector<uint64_t>(entry->waiting.begin(), entry->waiting.end())) {
      router_.failRequest(id, ErrorCode::kCancelled, "session " + name + " was terminated");
    }
    router_.sessions().remove(name);
    return;
  }
  const auto now = router_.clock().now();
  auto* request = router_.requests().add(kPoolsClient, next_terminate_++, RequestKind::kTerminate,
                                         name, now, now + router_.config().control_timeout);
  if (request == nullptr) return;
  request->client_gone = true;  // nobody waits: the reply only settles the registry
  request->worker = entry->worker;
  request->generation = entry->generation;
  entry->terminating = true;
  router_.toWorkerBody(entry->worker, MessageType::kTerminate,
                       msg::Terminate{request->id, name, entry->generation});
}

}  // namespace ccmesh::broker
