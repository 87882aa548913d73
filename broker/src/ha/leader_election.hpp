#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ccmesh/broker/broker_config.hpp"
#include "ccmesh/common/clock.hpp"
#include "ha/declarations.hpp"
#include "ha/etcd_gateway.hpp"

namespace ccmesh::broker {

// Where a broker of an HA cluster can be reached, as it announces itself in etcd.
struct BrokerAddress {
  std::string name;      // --ha-name
  std::string frontend;  // clients connect here
  std::string backend;   // workers connect here
};

// One broker of the cluster as the election sees it.
struct ElectionMember {
  BrokerAddress address;
  bool leader = false;
};

// What the election knows now (see LeaderElection::view).
struct ElectionView {
  enum class Role { kCandidate, kStandby, kLeader };
  Role role = Role::kCandidate;  // candidate: no lease yet (etcd unreachable)
  uint64_t term = 0;             // the leader's term (its key's create revision); 0: none known
  std::optional<BrokerAddress> leader;  // the leader, if one is known (this broker too)
  TimePoint serve_until{};              // a leader serves until then unless it renews
  std::vector<ElectionMember> members;  // every broker with a live lease, by name
  std::string problem;                  // why this broker does not lead or follow, if it can say
};

// How long before its term runs out a leader stops serving: a tenth of the TTL, at least
// 50 ms (room for the clocks of etcd and the broker to drift, and for the loop to notice).
Millis fencingMargin(Millis ttl);

// Who leads the brokers of one cluster, decided through etcd (docs/OPERATIONS.md "High
// availability"). Every broker holds a lease of --ha-ttl-ms (rounded up to etcd's whole
// seconds) and campaigns by creating the cluster's leader key under it only if the key is
// absent; the key's create revision is the leader's term, so terms only ever grow.
//
// The leader renews its lease every third of the TTL and may serve until the TTL, less a
// margin, counted from when the last successful renewal was SENT: etcd counts its TTL from
// when that renewal arrived, so the leader always stops before its key can lapse and a
// standby can win, even when it still hears its clients and workers but no longer etcd.
// Standbys read the key every tick and campaign as soon as it is gone.
//
// The election runs on its own thread (etcd's calls block); the broker's loop reads view()
// and is woken through `on_change`.
class LeaderElection {
 public:
  LeaderElection(HaConfig config, BrokerAddress self, std::function<void()> on_change,
                 std::shared_ptr<spdlog::logger> logger);
  ~LeaderElection();  // resigns (deletes its key, revokes its lease) if it can
  LeaderElection(const LeaderElection&) = delete;
  LeaderElection& operator=(const LeaderElection&) = delete;

  // Starts campaigning on the election's thread.
  void start();
  // What the election knows now.
  ElectionView view() const;
  // Grows with every change of view(): the broker's loop reads view() only when it moved.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  // The broker stopped serving (its term ran out before a renewal came back): give up the
  // lease, so that a standby takes over rather than this broker winning again with it.
  void stepDown();

  // What the cluster declared at runtime, read from etcd when this broker won its term
  // (once: nullopt afterwards, and before it leads).
  std::optional<Declarations> takeDeclarations();
  // The leader writes a declaration (queued; written in order, only while it leads).
  // Returns its number: once written() reaches it, etcd holds it.
  uint64_t record(DeclarationWrite write);
  // The number of the last declaration etcd holds (see record()); the broker's loop is woken
  // when it grows.
  uint64_t written() const { return written_.load(std::memory_order_acquire); }

  // The etcd keys of a cluster.
  static std::string leaderKey(const std::string& cluster);
  static std::string membersPrefix(const std::string& cluster);
  static std::string declaredPrefix(const std::string& cluster);

 private:
  void run();
  // One pass: lease, renewal, campaign or watch, members. Returns when to run the next.
  TimePoint pass();
  // Gets a lease (and announces this broker under it); false if etcd did not answer.
  bool acquireLease();
  // Renews the lease when due; false if it is gone.
  bool renew(TimePoint now);
  // Tries to take the leader key, or reads who holds it.
  void campaign();
  // The leader checks that its key is still its own.
  void confirm();
  void readMembers();
  // Reads every declaration of the cluster (on winning a term); false if etcd did not answer.
  bool readDeclarations();
  // Writes the queued declarations while this broker leads.
  void writeDeclarations();
  // Drops the lease (and leadership) after it was lost or given up.
  void loseLease(const std::string& why);
  // Publishes a change under the lock and wakes the broker's loop.
  void publish(const std::function<void(ElectionView&)>& change);

  HaConfig config_;
  BrokerAddress self_;
  std::function<void()> on_change_;
  std::shared_ptr<spdlog::logger> logger_;
  EtcdGateway etcd_;
  Millis lease_ttl_;  // as etcd granted it (at least config_.ttl)

  // The election thread's own state.
  int64_t lease_ = 0;              // 0: none
  TimePoint renew_due_{};          // when the next renewal goes out
  TimePoint last_renewal_sent_{};  // when the last renewal that succeeded was sent
  TimePoint next_members_read_{};  // when the members are read again
  bool leading_ = false;           // this broker holds the leader key
  uint64_t term_ = 0;              // the term of the key this broker holds or saw

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                 // guarded by mutex_
  bool step_down_ = false;                // guarded by mutex_
  ElectionView view_;                     // guarded by mutex_
  std::optional<Declarations> declared_;  // guarded by mutex_: see takeDeclarations()
  std::deque<std::pair<uint64_t, DeclarationWrite>> writes_;  // guarded by mutex_: see record()
  uint64_t recorded_ = 0;                                     // guarded by mutex_: see record()
  std::atomic<uint64_t> written_{0};                          // see written()
  std::atomic<uint64_t> version_{0};                          // see version()
  std::thread thread_;
};

}  // namespace ccmesh::broker
