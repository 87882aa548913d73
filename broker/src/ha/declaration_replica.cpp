#include "ha/declaration_replica.hpp"

#include "ccmesh/common/pool_strategy.hpp"

namespace ccmesh::broker {
namespace {

template <class T>
std::string packed(const T& value) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, value);
  return std::string(buffer.data(), buffer.size());
}

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

DeclarationReplica::DeclarationReplica(const SessionRegistry& sessions, const PoolRegistry& pools,
                                       std::function<uint64_t(DeclarationWrite)> write)
    : sessions_(sessions), pools_(pools), write_(std::move(write)) {}

void DeclarationReplica::onEvent(const BrokerEvent& event) {
  std::visit(Overloaded{
                 [&](const event::SessionRegistered& e) {
                   // A pool's members come back with their pool.
                   if (e.pool.empty()) writeSession(e.session);
                 },
                 [&](const event::SessionTerminated& e) {
                   record(DeclarationWrite{sessionKey(e.session), std::nullopt});
                 },
                 [&](const event::PoolCreated& e) { writePool(e.pool); },
                 [&](const event::PoolResized& e) { writePool(e.pool); },
                 [&](const event::PoolDeleted& e) {
                   record(DeclarationWrite{poolKey(e.pool), std::nullopt});
                 },
                 [&](const event::BudgetChanged& e) {
                   if (e.kind == "pool") {
                     writePool(e.name);
                   } else {
                     writeSession(e.name);
                   }
                 },
                 [](const auto&) {},
             },
             event.body);
}

void DeclarationReplica::writeSession(const std::string& name) {
  const auto* entry = sessions_.find(name);
  if (entry == nullptr) return;
  if (const auto* pool = pools_.poolOf(name)) {
    const auto* owner = pools_.find(*pool);
    if (owner != nullptr && owner->owned) return;  // its pool makes it again
  }
  record(DeclarationWrite{sessionKey(name),
                          packed(DeclaredSession{name, entry->options, entry->creator})});
}

void DeclarationReplica::writePool(const std::string& name) {
  const auto* pool = pools_.find(name);
  if (pool == nullptr) return;
  DeclaredPool declared;
  declared.name = name;
  declared.strategy = std::string(poolStrategyName(pool->strategy));
  declared.options = pool->options;  // a pool of existing sessions: only its budget
  if (pool->owned) {
    declared.size = static_cast<uint32_t>(pool->members.size());
  } else {
    for (const auto& member : pool->members) declared.members.push_back(member.name);
  }
  record(DeclarationWrite{poolKey(name), packed(declared)});
}

}  // namespace ccmesh::broker
