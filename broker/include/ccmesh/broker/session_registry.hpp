#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/session_options.hpp"
#include "ccmesh/common/usage.hpp"
#include "ccmesh/common/worker_messages.hpp"

namespace ccmesh::broker {

// Wire names of the session states the broker itself sets; the others come from workers.
namespace session_state {
inline constexpr std::string_view kPending = "pending";    // registered, no worker yet
inline constexpr std::string_view kStarting = "starting";  // assigned, CLI not up yet
inline constexpr std::string_view kStopping = "stopping";  // terminate forwarded
inline constexpr std::string_view kStopped = "stopped";    // gone (terminate answered)
}  // namespace session_state

// The conversation a fork continues (docs/SESSIONS.md "Forks"): the source session's
// conversation id and the broker's copy of its transcript when the fork was asked for. Shared
// by the members of a pool forked from one session.
struct ForkOrigin {
  std::string source;                             // the session forked
  std::string session_id;                         // its conversation then
  std::shared_ptr<const std::string> transcript;  // JSONL, whole
};

// One named session as the broker knows it.
struct SessionEntry {
  std::string name;         // the cluster-wide session name
  SessionOptions options;   // what it was started with
  std::string worker;       // id of the hosting worker; empty while pending
  uint64_t generation = 0;  // generation of its current (or last) placement; 0: never
  std::string state{session_state::kPending};  // last state reported or set by the broker
  bool terminating = false;                    // terminate forwarded: new requests get not_found
  int64_t pid = 0;                             // CLI pid on its worker, 0 if none
  std::string session_id;                      // the CLI's conversation id
  uint32_t restarts = 0;                       // CLI restarts since placement
  uint64_t turns = 0;                          // turns completed
  Usage usage;  // what its turns used, its whole life (docs/SESSIONS.md "Cost and budgets")
  std::string last_error;  // why it last crashed or failed
  std::string cut;         // non-empty: its conversation was cut (as its worker reports it)
  std::string creator;     // allow-list name of the client that started it; empty if unknown
                           // (set once, by SessionRegistry::add)

  uint32_t recycles = 0;     // CLI restarts for exceeding max_rss_mb since placement
  uint64_t rss_kb = 0;       // its CLI's resident memory as last reported (0: no CLI)
  TimePoint last_used_at{};  // when its last turn ended, by the broker's clock ({}: unknown)
  // Not placed again before this time: a copy may still run where it was, under the lease
  // of a worker process that another process with the same id replaced ({}: no hold).
  TimePoint not_before{};

  bool moving = false;      // `move` is stopping its copy: queries wait in the broker
  std::string last_worker;  // the worker of its previous placement (empty: none known)

  // A fork with no turn of its own yet: every placement forks this conversation again (the
  // copy the broker holds of its own conversation lacks the history until that turn).
  std::optional<ForkOrigin> fork;

  // Its own cluster-side budget (options.budget_usd) is spent.
  bool budgetSpent() const {
    return options.budget_usd > 0 && usage.spentUsd() >= options.budget_usd;
  }
};

// The session names of the cluster: name -> entry, plus which worker hosts which names and
// which names wait for a worker. Keeps both indexes consistent; knows nothing of sockets.
class SessionRegistry {
 public:
  // Registers a new name in state pending, started by `creator` (the allow-list name of a
  // client's key; empty if unknown). False if the name is taken.
  bool add(const std::string& name, const SessionOptions& options, const std::string& creator = {});

  // How many registered sessions `creator` started (its --max-sessions-per-client quota).
  std::size_t createdBy(const std::string& creator) const;

  // Forgets a name (and calls the removal callback). False if it was not registered.
  bool remove(const std::string& name);

  // Called with every name remove() forgets (what belongs to the name goes with it).
  void onRemove(std::function<void(const std::string&)> callback) {
    on_remove_ = std::move(callback);
  }

  SessionEntry* find(std::string_view name);
  const SessionEntry* find(std::string_view name) const;

  // Places a registered name on a worker with a new generation (previous + 1), state
  // starting. Returns the new generation.
  uint64_t place(const std::string& name, const std::string& worker);

  // Binds a name to a worker at a generation the worker reports holding, registering the
  // name first if needed (a worker that outlived a broker restart brings its sessions).
  SessionEntry& adopt(const std::string& name, const SessionOptions& options,
                      const std::string& worker, uint64_t generation);

  // Takes a name off its worker: state pending, generation kept.
  void unplace(const std::string& name);

  // Every name on a worker goes back to pending; returns those names in name order.
  std::vector<std::string> releaseWorker(const std::string& worker);

  // Applies a worker's report of a session's state, received at `received_at`, to its entry.
  static void applyUpdate(SessionEntry& entry, const msg::SessionUpdate& update,
                          TimePoint received_at = TimePoint{});

  // Names hosted by a worker (empty set if none).
  const std::set<std::string>& sessionsOn(const std::string& worker) const;

  // Number of names hosted by a worker.
  std::size_t countOn(const std::string& worker) const;

  // Every worker hosting names, with those names, sorted by worker id (as WorkerTable's
  // entries are: placement walks both at once instead of looking each worker up).
  const std::map<std::string, std::set<std::string>, std::less<>>& placements() const {
    return by_worker_;
  }

  // Names waiting for a worker, in name order.
  const std::set<std::string>& pendingNames() const { return pending_; }

  // All entries, sorted by name.
  const std::map<std::string, SessionEntry, std::less<>>& entries() const { return entries_; }

  std::size_t size() const { return entries_.size(); }
  std::size_t pendingCount() const { return pending_.size(); }

 private:
  // Moves a name to `worker` at `generation`, keeping the indexes right.
  void bind(SessionEntry& entry, const std::string& worker, uint64_t generation);
  // Removes a name from the index of the worker hosting it.
  void detach(SessionEntry& entry);

  std::map<std::string, SessionEntry, std::less<>> entries_;  // every registered name, sorted
  std::map<std::string, std::set<std::string>, std::less<>> by_worker_;  // worker -> names
  std::set<std::string> pending_;                                        // names with no worker
  std::unordered_map<std::string, std::size_t> created_by_;  // creator -> names it started
  std::function<void(const std::string&)> on_remove_;        // see onRemove()
};

}  // namespace ccmesh::broker
