#include "core/broker_core.hpp"

namespace ccmesh::broker {

void BrokerCore::takeLeadership(uint64_t term) {
  term_ = term;
  recovery_ = RecoveryWindow(clock_.now(), workerExpiry(config_));
  logger_->info(
      "serving as leader of term {}: workers of the previous leader report back "
      "within {} ms",
      term, workerExpiry(config_).count());
}

void BrokerCore::restore(const std::vector<SessionSpec>& sessions,
                         const std::vector<std::string>& creators,
                         const std::vector<PoolSpec>& pools) {
  // A session the sessions file declares as well is there already and stays as it is.
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    registerSession(sessions[i].name, sessions[i].options, i < creators.size() ? creators[i] : "");
  }
  if (!sessions.empty() || !pools.empty()) {
    logger_->info("term {}: {} session(s) and {} pool(s) declared under earlier leaders", term_,
                  sessions.size(), pools.size());
  }
  // Pools of the sessions file are there already; the others come back.
  std::vector<PoolSpec> missing;
  for (const auto& pool : pools) {
    if (pools_.find(pool.name) == nullptr) missing.push_back(pool);
  }
  declarePools(missing);
  placePending();
}

void BrokerCore::stepDown(const std::string& why) {
  const std::string message =
      "the broker stopped serving (" + why + "); the request's fate is unknown: ask the new leader";
  for (const uint64_t id : requests_.ids()) failRequest(id, ErrorCode::kUnavailable, message);
  std::vector<std::string> pools;
  for (const auto& [name, pool] : pools_.entries()) pools.push_back(name);
  for (const auto& name : pools) {
    if (auto* pool = pools_.find(name))
      failWaitingCheckouts(*pool, ErrorCode::kUnavailable, message);
  }
  logger_->warn("stepped down from term {}: {}", term_, why);
}

}  // namespace ccmesh::broker
