#pragma once

#include <functional>

#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/broker/pool_registry.hpp"
#include "ccmesh/broker/session_registry.hpp"
#include "ha/declarations.hpp"

namespace ccmesh::broker {

// Watches the leader's events and writes what only the broker knows — sessions declared at
// runtime, pools, their options and creators — to etcd through `write` (which queues it for
// the election's thread: an observer never blocks the loop). Sessions and pools are written
// whole from the registries as they are after the event.
class DeclarationReplica : public BrokerObserver {
 public:
  // `write` queues a declaration and returns its number (LeaderElection::record).
  DeclarationReplica(const SessionRegistry& sessions, const PoolRegistry& pools,
                     std::function<uint64_t(DeclarationWrite)> write);

  void onEvent(const BrokerEvent& event) override;

  // Deletes a session's declaration now (a terminate taken, before its worker confirms).
  void forgetSession(const std::string& name) {
    record(DeclarationWrite{sessionKey(name), std::nullopt});
  }
  // The number of the last declaration queued (0: none yet).
  uint64_t lastRecorded() const { return last_; }

 private:
  void writeSession(const std::string& name);
  void writePool(const std::string& name);

  const SessionRegistry& sessions_;
  const PoolRegistry& pools_;
  std::function<uint64_t(DeclarationWrite)> write_;
  uint64_t last_ = 0;  // see lastRecorded()
  // Queues one write and remembers its number.
  void record(DeclarationWrite write) { last_ = write_(std::move(write)); }
};

}  // namespace ccmesh::broker
