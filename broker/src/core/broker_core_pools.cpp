// BrokerCore, continued: pools. A pool either creates its members, as ordinary named sessions
// NAME/0 .. NAME/N-1 whose options carry the pool's name and strategy (so they move with
// failover like any session, and workers report the membership back to a restarted broker),
// or groups existing sessions it never stops. Pool queries go to the member the pool's
// strategy picks, as an ordinary query of that member; a member that refuses one before
// running it (busy, failed, gone) is passed over and the next one tried, so when every
// member refuses, the query ends with pool_exhausted at once.
#include <algorithm>
#include <charconv>
#include <set>
#include <vector>

#include "ccmesh/common/limits.hpp"
#include "ccmesh/common/requests.hpp"
#include "core/broker_core.hpp"

namespace ccmesh::broker {
namespace {

// The pseudo-client of the pools' own terminate requests: no real routing id is empty.
const std::string kPoolsClient;

// The state a worker reports for a session that restarted too often.
constexpr std::string_view kFailedState = "failed";

// Codes a member answers without running the query: the pool may try another member.
bool isRefusal(std::string_view code) {
  return code == errorCodeName(ErrorCode::kBusy) ||
         code == errorCodeName(ErrorCode::kSessionFailed) ||
         code == errorCodeName(ErrorCode::kNotFound);
}

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

void BrokerCore::declarePools(const std::vector<PoolSpec>& specs) {
  for (const auto& spec : specs) {
    auto created = addPool(spec, /*strict=*/false, {});
    if (!created) {
      logger_->warn("[pool {}] from the sessions file not created: {}", spec.name,
                    created.error().message);
    }
  }
  placePending();
}

void BrokerCore::createPool(const std::string& client, const msg::PoolCreate& create,
                            const std::string& creator) {
  const PoolSpec spec{create.pool, create.size, create.strategy, create.members, create.options};
  std::optional<ForkOrigin> fork;
  if (!create.fork_of.empty()) {
    if (!create.members.empty()) {
      replyError(client, create.id, ErrorCode::kBadRequest,
                 "fork_of: only a pool that creates its members (size) can fork them");
      return;
    }
    auto origin = forkOrigin(create.fork_of);
    if (!origin) {
      replyError(client, create.id, origin.error().code, origin.error().message);
      return;
    }
    fork = std::move(*origin);
  }
  auto created = addPool(spec, /*strict=*/true, creator, fork ? &*fork : nullptr);
  if (!created) {
    replyError(client, create.id, created.error().code, created.error().message);
    return;
  }
  reply(client, MessageType::kResult, msg::PoolInfoResult{create.id, describe(**created)});
}

void BrokerCore::resizePool(const std::string& client, const msg::PoolResize& resize,
                            const std::string& creator) {
  if (findPool(client, resize.id, resize.pool) == nullptr) return;
  auto& pool = *pools_.find(resize.pool);
  const auto from = static_cast<uint32_t>(pool.members.size());
  // Members a forked pool starts fork its source as it is now; shrinking needs no source.
  std::optional<ForkOrigin> fork;
  if (!pool.fork_of.empty()) {
    auto origin = forkOrigin(pool.fork_of);
    if (origin) {
      fork = std::move(*origin);
    } else if (resize.size > from) {
      replyError(client, resize.id, origin.error().code, origin.error().message);
      return;
    }
  }
  if (auto error = resizeMembers(pool, resize.size, creator, fork ? &*fork : nullptr)) {
    replyError(client, resize.id, error->code, error->message);
    return;
  }
  events_.emit(event::PoolResized{pool.name, from, static_cast<uint32_t>(pool.members.size())});
  grantWaiting(pool);
  reply(client, MessageType::kResult, msg::PoolInfoResult{resize.id, describe(pool)});
}

void BrokerCore::deletePool(const std::string& client, const msg::PoolNamed& remove) {
  if (findPool(client, remove.id, remove.pool) == nullptr) return;
  auto& pool = *pools_.find(remove.pool);
  failWaitingCheckouts(pool, ErrorCode::kNotFound, "pool " + pool.name + " was deleted");
  stopMembers(pool);
  const auto info = describe(pool);
  logger_->info("[pool {}] deleted ({} member(s) {})", pool.name, pool.members.size(),
                pool.owned ? "terminated" : "left running");
  const std::string name = pool.name;
  pools_.remove(name);
  events_.emit(event::PoolDeleted{name});
  reply(client, MessageType::kResult, msg::PoolInfoResult{remove.id, info});
}

const PoolEntry* BrokerCore::findPool(const std::string& client, uint64_t id,
                                      const std::string& name) {
  if (auto bad = validatePoolName(name)) {
    replyError(client, id, bad->code, bad->message);
    return nullptr;
  }
  if (const auto* pool = pools_.find(name)) return pool;
  if (recovery_.uncertain(clock_.now())) {
    // Members bring their pool back as their workers reconnect (see adoptIntoPool).
    replyError(client, id, ErrorCode::kUnavailable, recoveringMessage("pool " + name));
    return nullptr;
  }
  replyError(client, id, ErrorCode::kNotFound, "no pool named " + name);
  return nullptr;
}

Expected<PoolEntry*, Error> BrokerCore::addPool(const PoolSpec& spec, bool strict,
                                                const std::string& creator,
                                                const ForkOrigin* fork) {
  if (pools_.find(spec.name) != nullptr) {
    return failure(ErrorCode::kAlreadyExists, "pool " + spec.name + " already exists");
  }
  const auto strategy = parsePoolStrategy(spec.strategy).value_or(PoolStrategy::kRoundRobin);
  if (spec.members.empty()) {
    for (uint32_t i = 0; i < spec.size; ++i) {
      const auto name = poolMemberName(spec.name, i);
      if (sessions_.find(name) != nullptr) {
        return failure(ErrorCode::kAlreadyExists, "session " + name + " already exists");
      }
    }
    SessionOptions options = spec.options;
    options.pool = spec.name;
    options.pool_strategy = std::string(poolStrategyName(strategy));
    auto* pool = pools_.add(spec.name, strategy, /*owned=*/true, options);
    if (fork != nullptr) pool->fork_of = fork->source;
    events_.emit(event::PoolCreated{spec.name, spec.size, true});
    for (uint32_t i = 0; i < spec.size; ++i) startMember(*pool, i, creator, fork);
    logger_->info("[pool {}] created with {} member(s), {}", spec.name, spec.size,
                  poolStrategyName(strategy));
    return pool;
  }
  std::set<std::string> seen;
  for (const auto& name : spec.members) {
    if (!seen.insert(name).second) {
      return failure(ErrorCode::kBadRequest, "members: " + name + " is listed twice");
    }
    const auto* entry = sessions_.find(name);
    if (strict && (entry == nullptr || entry->terminating)) {
      return failure(ErrorCode::kNotFound, "no session named " + name);
    }
    if (const auto* other = pools_.poolOf(name)) {
      return failure(ErrorCode::kAlreadyExists,
                     "session " + name + " is a member of pool " + *other + " already");
    }
  }
  SessionOptions pool_options;  // a pool of existing sessions keeps only its budget here
  pool_options.pool_budget_usd = spec.options.pool_budget_usd;
  auto* pool = pools_.add(spec.name, strategy, /*owned=*/false, pool_options);
  for (const auto& name : spec.members) pools_.addMember(*pool, name);
  if (pool_options.pool_budget_usd > 0) {  // its members learn it, as after `budget --set`
    changeBudget(*pool, msg::BudgetRequest{0, spec.name, 0, pool_options.pool_budget_usd, false});
    for (const auto& [worker, copies] : budgetCopies(*pool)) sendBudgets(worker, copies, 0);
  }
  events_.emit(event::PoolCreated{spec.name, static_cast<uint32_t>(spec.members.size()), false});
  logger_->info("[pool {}] created over {} existing session(s), {}", spec.name, spec.members.size(),
                poolStrategyName(strategy));
  return pool;
}

std::optional<Error> BrokerCore::resizeMembers(PoolEntry& pool, uint32_t size,
                                               const std::string& creator, const ForkOrigin* fork) {
  if (!pool.owned) {
    return failure(ErrorCode::kBadRequest, "pool " + pool.name +
                                               " groups existing sessions; only a pool that "
                                               "created its members can be resized");
  }
  if (size == 0 || size > limits::kMaxPoolSize) {
    return failure(ErrorCode::kBadRequest,
                   "size must be 1.." + std::to_string(limits::kMaxPoolSize));
  }
  for (uint32_t i = 0; i < size; ++i) {
    const auto name = poolMemberName(pool.name, i);
    if (PoolRegistry::member(pool, name) == nullptr && sessions_.find(name) != nullptr) {
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
    if (PoolRegistry::member(pool, name) == nullptr || sessions_.find(name) == nullptr) {
      startMember(pool, i, creator, fork);  // new, or a member whose session was terminated
    }
  }
  logger_->info("[pool {}] resized to {} member(s)", pool.name, pool.members.size());
  return std::nullopt;
}

void BrokerCore::stopMembers(PoolEntry& pool) {
  for (auto& member : pool.members) {
    pools_.checkIn(pool, member);
    if (pool.owned) terminateMember(member.name);
  }
}

void BrokerCore::adoptIntoPool(const SessionEntry& entry) {
  const std::string& tag = entry.options.pool;
  if (tag.empty() || pools_.poolOf(entry.name) != nullptr) return;
  const auto index = memberIndex(tag, entry.name);
  if (!index) return;  // only members a pool created (NAME/i) carry their pool along
  auto* pool = pools_.find(tag);
  if (pool == nullptr) {
    const auto strategy =
        parsePoolStrategy(entry.options.pool_strategy).value_or(PoolStrategy::kRoundRobin);
    pool = pools_.add(tag, strategy, /*owned=*/true, entry.options);
    events_.emit(event::PoolCreated{tag, 0, true});
    logger_->info("[pool {}] rebuilt from the members workers report", tag);
  }
  if (!pool->owned) return;
  pools_.addMember(*pool, entry.name, positionFor(*pool, *index));
  grantWaiting(*pool);
}

msg::PoolInfo BrokerCore::describe(const PoolEntry& pool) const {
  msg::PoolInfo info;
  info.name = pool.name;
  info.strategy = std::string(poolStrategyName(pool.strategy));
  info.owned = pool.owned;
  info.size = static_cast<uint32_t>(pool.members.size());
  info.waiting_checkouts = static_cast<uint32_t>(pool.waiting.size());
  info.reclaims = pool.reclaims;
  info.exhausted = pool.exhausted;
  info.usage = poolUsage(pool);
  info.budget_usd = pool.options.pool_budget_usd;
  info.spent_usd = poolSpent(pool);
  const auto now = clock_.now();
  for (const auto& member : pool.members) {
    msg::PoolMemberInfo shown;
    shown.name = member.name;
    shown.state = "missing";  // no session of that name is registered (now)
    if (const auto* entry = sessions_.find(member.name)) {
      const auto session = describe(*entry);
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

void BrokerCore::startMember(PoolEntry& pool, uint32_t index, const std::string& creator,
                             const ForkOrigin* fork) {
  const auto name = poolMemberName(pool.name, index);
  if (!registerSession(name, pool.options, creator)) return;
  if (fork != nullptr) sessions_.find(name)->fork = *fork;
  if (PoolRegistry::member(pool, name) == nullptr) {
    pools_.addMember(pool, name, positionFor(pool, index));
  }
  place(name);  // stays pending when no worker has room; placed once one has
}

void BrokerCore::terminateMember(const std::string& name) {
  auto* entry = sessions_.find(name);
  if (entry == nullptr || entry->terminating) return;
  if (entry->worker.empty()) {
    failWaiting(*entry, ErrorCode::kCancelled, "session " + name + " was terminated");
    removeSession(name, "its pool was resized or deleted");
    return;
  }
  auto* request = addRequest(kPoolsClient, next_pool_terminate_++, RequestKind::kTerminate, name,
                             clock_.now() + config_.control_timeout);
  if (request == nullptr) return;
  request->client_gone = true;  // nobody waits: the reply only settles the registry
  sendTerminate(*entry, *request);
}

// ---- Pool queries ----

void BrokerCore::submitPoolQuery(const std::string& client, const msg::PoolQuery& query) {
  if (findPool(client, query.id, query.pool) == nullptr) return;
  auto& pool = *pools_.find(query.pool);
  if (auto spent = poolBudgetSpent(pool)) {
    return replyError(client, query.id, ErrorCode::kBudgetExhausted, *spent);
  }
  msg::Query member_query;
  member_query.id = query.id;
  member_query.prompt = query.prompt;
  member_query.stream = query.stream;
  member_query.timeout_ms = query.timeout_ms;
  if (!dispatchPoolQuery(client, pool, std::move(member_query), {}, clock_.now())) {
    poolExhausted(client, query.id, pool);
  }
}

bool BrokerCore::retryPoolQuery(BrokerRequest& request, std::string_view code) {
  auto* pool = pools_.find(request.pool);
  if (pool == nullptr || request.delivered || request.client_gone || !isRefusal(code)) {
    return false;
  }
  // The member refused it before it reached a CLI: safe to hand to another member.
  std::vector<std::string> refused = std::move(request.pool_refused);
  refused.push_back(request.session);
  const std::string client = request.client;
  const uint64_t client_id = request.client_id;
  const TimePoint accepted_at = request.accepted_at;
  msg::Query query = std::move(request.query);
  logger_->debug("[pool {}] [session {}] refused query {}; trying another member", pool->name,
                 request.session, client_id);
  forget(request.id, code);  // `request` is gone from here on
  if (!dispatchPoolQuery(client, *pool, std::move(query), std::move(refused), accepted_at)) {
    poolExhausted(client, client_id, *pool);
  }
  return true;
}

PoolMember* BrokerCore::pickMember(PoolEntry& pool, const std::vector<std::string>& refused) {
  if (pool.members.empty()) return nullptr;
  std::vector<PoolCandidate> candidates;
  candidates.reserve(pool.members.size());
  for (const auto& member : pool.members) {
    const auto* entry = sessions_.find(member.name);
    // A member that spent its own budget is as good as unusable for pool queries.
    const bool usable = entry != nullptr && !entry->terminating && entry->state != kFailedState &&
                        !entry->budgetSpent();
    const bool free = member.lease_id == 0 &&
                      std::find(refused.begin(), refused.end(), member.name) == refused.end();
    candidates.push_back(PoolCandidate{usable && free, usable && !entry->worker.empty(),
                                       requests_.queriesOf(member.name)});
  }
  auto chosen = selector_.choose(pool.strategy, candidates, pool.cursor);
  if (!chosen) return nullptr;
  pool.cursor = (*chosen + 1) % pool.members.size();
  return &pool.members[*chosen];
}

PoolMember* BrokerCore::pickIdle(PoolEntry& pool) {
  std::vector<PoolCandidate> candidates;
  candidates.reserve(pool.members.size());
  for (const auto& member : pool.members) {
    const auto* entry = sessions_.find(member.name);
    const bool usable = entry != nullptr && !entry->terminating && entry->state != kFailedState;
    const uint32_t in_flight = requests_.queriesOf(member.name);
    const bool idle = usable && member.lease_id == 0 && in_flight == 0;
    candidates.push_back(PoolCandidate{idle, usable && !entry->worker.empty(), in_flight});
  }
  // Leaves the cursor alone, so that checkouts do not disturb the pool queries' rotation.
  auto chosen = selector_.choose(PoolStrategy::kRoundRobin, candidates, pool.cursor);
  return chosen ? &pool.members[*chosen] : nullptr;
}

bool BrokerCore::dispatchPoolQuery(const std::string& client, PoolEntry& pool, msg::Query query,
                                   std::vector<std::string> refused, TimePoint accepted_at) {
  while (auto* member = pickMember(pool, refused)) {
    auto* entry = sessions_.find(member->name);
    const bool placed = !entry->worker.empty();
    if (!placed && requests_.waitingFor(entry->name).size() >= config_.pending_limit) {
      refused.push_back(member->name);  // its broker queue is full: as good as busy
      continue;
    }
    auto* request = addRequest(client, query.id, RequestKind::kQuery, member->name, clock_.now());
    if (request == nullptr) {
      replyError(client, query.id, ErrorCode::kDuplicateId,
                 "request id " + std::to_string(query.id) + " is already in flight");
      return true;
    }
    request->accepted_at = accepted_at;
    query.session = member->name;
    request->query = std::move(query);
    request->pool = pool.name;
    request->pool_refused = std::move(refused);
    events_.emit(event::QueryAdmitted{request->id, request->session, pool.name});
    enqueueWaiting(*request);
    if (placed) forwardWaiting(*entry);
    return true;
  }
  return false;
}

void BrokerCore::poolExhausted(const std::string& client, uint64_t client_id, PoolEntry& pool) {
  ++pool.exhausted;
  replyError(client, client_id, ErrorCode::kPoolExhausted,
             "every member of pool " + pool.name + " is busy, checked out or unusable (" +
                 std::to_string(pool.members.size()) + " member(s))");
}

}  // namespace ccmesh::broker
