#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/pool_strategy.hpp"
#include "ccmesh/common/session_options.hpp"

namespace ccmesh::broker {

// One member of a pool: a session name plus what the pool keeps about it.
struct PoolMember {
  std::string name;         // the member's session name
  uint64_t served = 0;      // pool queries it answered
  uint64_t lease_id = 0;    // the checkout holding it; 0 while not checked out
  TimePoint lease_end{};    // when that checkout lapses
  std::string holder;       // routing id of the client holding the lease (while held)
  std::string holder_name;  // allow-list name of that client's key (CURVE only)
};

// A checkout waiting for a member to become free.
struct WaitingCheckout {
  std::string client;      // routing id of the client on the frontend
  std::string caller;      // allow-list name of the client's key (CURVE only)
  uint64_t client_id = 0;  // id the client chose; the reply carries it
  Millis lease{0};         // the lease to grant
  TimePoint deadline{};    // when it gives up with pool_exhausted
};

// A named group of sessions the broker balances pool queries over.
struct PoolEntry {
  std::string name;                                   // the pool's name
  PoolStrategy strategy = PoolStrategy::kRoundRobin;  // how pool queries pick a member
  bool owned = false;                   // created its members NAME/i: delete and resize stop them
  SessionOptions options;               // owned: options of the members it creates (pool-tagged)
  std::string fork_of;                  // owned: the session every member it creates forks
  std::vector<PoolMember> members;      // rotation order (owned pools: by index)
  std::size_t cursor = 0;               // rotation position of the next pick
  uint64_t reclaims = 0;                // leases that lapsed and were taken back
  uint64_t exhausted = 0;               // requests answered pool_exhausted
  std::deque<WaitingCheckout> waiting;  // checkouts waiting for a free member, oldest first
};

// The pools of the cluster: name -> entry, which pool each member belongs to (a session is in
// at most one pool), and the deadlines of leases and waiting checkouts. Knows nothing of
// sessions or sockets; time comes from the caller.
class PoolRegistry {
 public:
  // Registers an empty pool. Nullptr if the name is taken.
  PoolEntry* add(const std::string& name, PoolStrategy strategy, bool owned,
                 const SessionOptions& options);

  // Forgets a pool, its members' index entries, leases and waiting checkouts (the caller
  // answers those first). False if unknown.
  bool remove(const std::string& name);

  PoolEntry* find(const std::string& name);
  const PoolEntry* find(const std::string& name) const;

  // Adds a member at `position` (default: last). False if it is in a pool already.
  bool addMember(PoolEntry& pool, const std::string& member,
                 std::optional<std::size_t> position = std::nullopt);

  // Removes a member (and its lease). False if it is not in that pool.
  bool removeMember(PoolEntry& pool, const std::string& member);

  // The pool a session belongs to, or nullptr.
  const std::string* poolOf(const std::string& member) const;

  // A pool's member by name, or nullptr.
  static PoolMember* member(PoolEntry& pool, const std::string& name);

  // Reserves a member for client `holder` (routing id; `holder_name`: its key's name) until
  // `lease_end`; returns the new lease id (never 0).
  uint64_t checkOut(PoolEntry& pool, PoolMember& member, TimePoint lease_end,
                    const std::string& holder = {}, const std::string& holder_name = {});

  // Releases a member's lease. False if it was not checked out.
  bool checkIn(PoolEntry& pool, PoolMember& member);

  // Releases every lease that lapsed at or before `now` and counts it in its pool's
  // reclaims; returns each (pool, member) reclaimed, earliest lease end first.
  std::vector<std::pair<std::string, std::string>> reclaimLapsed(TimePoint now);

  // Queues a checkout behind the pool's earlier ones.
  void addWaiting(PoolEntry& pool, WaitingCheckout checkout);

  // Takes the oldest waiting checkout of a pool, if any.
  std::optional<WaitingCheckout> takeWaiting(PoolEntry& pool);

  // Removes the waiting checkout `client_id` of client `client` (it was cancelled); returns
  // its pool's name, or nothing if no such checkout waits.
  std::optional<std::string> cancelWaiting(const std::string& client, uint64_t client_id);

  // Checkouts waiting on behalf of client `client` (routing id), in every pool.
  std::size_t waitingOf(const std::string& client) const;

  // True if checkout `client_id` of client `client` waits for a member, in any pool.
  bool isWaiting(const std::string& client, uint64_t client_id) const;

  // Takes every waiting checkout whose deadline is at or before `now`, with its pool's name.
  std::vector<std::pair<std::string, WaitingCheckout>> takeExpiredWaiting(TimePoint now);

  // The earliest lease end or waiting deadline, if any.
  std::optional<TimePoint> nextDeadline() const;

  // All pools, sorted by name.
  const std::map<std::string, PoolEntry>& entries() const { return pools_; }

  std::size_t size() const { return pools_.size(); }

 private:
  // Forgets one waiting checkout in the per-client count.
  void uncount(const std::string& client);

  // (when, pool, member or client id): an index of leases and of waiting checkouts.
  using LeaseKey = std::tuple<TimePoint, std::string, std::string>;
  using WaitKey = std::tuple<TimePoint, std::string, std::string, uint64_t>;

  std::map<std::string, PoolEntry> pools_;                // by name
  std::unordered_map<std::string, std::string> pool_of_;  // member -> pool
  std::set<LeaseKey> leases_;                             // (lease end, pool, member)
  std::multiset<WaitKey> waiting_;                        // (deadline, pool, client, client id)
  std::unordered_map<std::string, std::size_t> waiting_per_client_;  // routing id -> count
  uint64_t next_lease_id_ = 1;                                       // next lease id handed out
};

}  // namespace ccmesh::broker
