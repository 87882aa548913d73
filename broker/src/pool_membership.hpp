#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ccmesh/broker/pool_registry.hpp"
#include "ccmesh/common/expected.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "session_router.hpp"

namespace ccmesh::broker {

// Which sessions make up each pool. A pool either creates its members, as ordinary named
// sessions NAME/0 .. NAME/N-1 whose options carry the pool's name and strategy (so they move
// with failover like any session, and workers report the membership back to a restarted
// broker), or groups existing sessions it never stops.
class PoolMembership {
 public:
  PoolMembership(SessionRouter& router, PoolRegistry& pools);

  // Registers a pool and its members (created ones are placed at once, or pending until a
  // worker has room). `strict`: every existing session it groups must be registered now
  // (a sessions file may name sessions that workers report later).
  Expected<PoolEntry*, Error> create(const PoolSpec& spec, bool strict);

  // Makes a pool that creates its members have exactly NAME/0 .. NAME/size-1: terminates
  // the others and starts the missing ones.
  std::optional<Error> resize(PoolEntry& pool, uint32_t size);

  // Releases every checkout and terminates the members the pool created (nobody waits for
  // the answers). The caller then removes the pool.
  void stopMembers(PoolEntry& pool);

  // A session a worker reported after a broker restart: when its options name a pool it
  // was created for, it joins that pool again (the pool is rebuilt if need be). The pool
  // it joined, or nullptr.
  PoolEntry* adopt(const SessionEntry& entry);

  // A pool as pool_info shows it.
  msg::PoolInfo describe(const PoolEntry& pool) const;

 private:
  // Registers member NAME/index with the pool's options and places it.
  void startMember(PoolEntry& pool, uint32_t index);

  // Stops a member session the pool created.
  void terminateMember(const std::string& name);

  SessionRouter& router_;        // sessions, requests, placement
  PoolRegistry& pools_;          // the pools
  uint64_t next_terminate_ = 1;  // ids of the pools' own terminate requests
};

}  // namespace ccmesh::broker
