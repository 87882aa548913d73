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
  DeclarationReplica(const SessionRegistry& sessions, const PoolRegistry& pools,
                     std::function<void(DeclarationWrite)> write);

  void onEvent(const BrokerEvent& event) override;

 private:
  void writeSession(const std::string& name);
  void writePool(const std::string& name);

  const SessionRegistry& sessions_;
  const PoolRegistry& pools_;
  std::function<void(DeclarationWrite)> write_;
};

}  // namespace ccmesh::broker
