#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/worker_messages.hpp"

namespace ccmesh::broker {

// One connected worker as the broker knows it.
struct WorkerEntry {
  std::string id;                             // worker id from `ready` (its name in logs)
  std::string routing_id;                     // its routing id on the backend ROUTER
  uint32_t capacity = 0;                      // how many sessions it may host (0: none)
  std::map<std::string, std::string> labels;  // placement labels it announced
  TimePoint last_heard{};                     // when any message last came from it
  uint64_t last_seq = 0;                      // last heartbeat seq it sent (echoed as ack)
  uint64_t sent_seq = 0;                      // the broker's own heartbeat counter for it
  TimePoint last_heartbeat_sent{};            // when the broker last sent it a heartbeat
  // Why it was found dead (a send found it unreachable, or it fell silent); empty while
  // alive. A lost worker is removed once the current message is handled, and placement
  // already skips it.
  std::string lost_why;
  event::LossCause lost_cause = event::LossCause::kSilence;  // that reason in one word
  bool lost() const { return !lost_why.empty(); }

  uint32_t max_live = 0;    // CLI processes it runs at once (0: no limit besides capacity)
  uint32_t live = 0;        // CLI processes it runs now (`ready`, then `load`)
  uint32_t hibernated = 0;  // its sessions without a CLI process

  // Transcript acks held back: session -> the newest ack not sent yet, and how many entries
  // it covers beyond the last one sent. They go with the next heartbeat to this worker (or
  // at once past SessionRouter::kAckEveryEntries), so a turn costs no extra message.
  std::map<std::string, std::pair<msg::TranscriptAck, uint64_t>> held_acks;
};

// The live workers: id -> entry, with a routing id -> id index for the backend socket.
class WorkerTable {
 public:
  // Registers a worker, or refreshes it when it sends `ready` again (also under a new
  // routing id: ROUTER_HANDOVER). Returns the entry and whether the id was new.
  std::pair<WorkerEntry*, bool> upsert(const std::string& id, const std::string& routing_id);

  // Takes a worker's live-process figures from `ready` or `load`.
  static void applyLoad(WorkerEntry& entry, const msg::Load& load);

  // Forgets a worker. False if unknown.
  bool remove(const std::string& id);

  WorkerEntry* find(const std::string& id);
  const WorkerEntry* find(const std::string& id) const;
  WorkerEntry* findByRoutingId(const std::string& routing_id);
  const WorkerEntry* findByRoutingId(const std::string& routing_id) const;

  // Ids of workers last heard from before `cutoff`, and of workers marked lost.
  std::vector<std::string> deadSince(TimePoint cutoff) const;

  // When the worker heard from longest ago was last heard, of those not lost; nullopt with
  // none.
  std::optional<TimePoint> oldestLastHeard() const;

  // All workers, sorted by id.
  const std::map<std::string, WorkerEntry>& entries() const { return entries_; }
  std::map<std::string, WorkerEntry>& entries() { return entries_; }

  std::size_t size() const { return entries_.size(); }

 private:
  std::map<std::string, WorkerEntry> entries_;                  // by worker id
  std::unordered_map<std::string, std::string> by_routing_id_;  // routing id -> worker id
};

}  // namespace ccmesh::broker
