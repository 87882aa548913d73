#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::broker {

// Learns within milliseconds that a worker's connection closed (its process was killed, its
// host reset the connection) instead of waiting for its heartbeats to go missing.
//
// A ZeroMQ socket monitor on the backend reports a closed connection by file descriptor, not
// by routing id, so the watch remembers the descriptor each worker's messages arrive on
// (ZMQ_SRCFD). When that descriptor closes, the worker is probed: a send with
// ROUTER_MANDATORY fails (EHOSTUNREACH) once ZeroMQ has torn down the connection's pipe,
// which happens a little after the event, so probes repeat on a short schedule. A worker
// that stays reachable through the schedule (a new connection got the same descriptor, or
// its id was handed over to a new connection) is left to heartbeats: a probe never declares
// anyone dead by itself succeeding.
class DisconnectWatch {
 public:
  // Delays after a disconnect at which a worker is probed again.
  static constexpr Millis kProbeSchedule[] = {Millis(1), Millis(3), Millis(10), Millis(30),
                                              Millis(100)};

  // Starts monitoring `backend` (bound or not). `context` must be the socket's; `backend`
  // must outlive the watch.
  DisconnectWatch(zmq::context_t& context, zmq::socket_t& backend, const Clock& clock);
  ~DisconnectWatch();
  DisconnectWatch(const DisconnectWatch&) = delete;
  DisconnectWatch& operator=(const DisconnectWatch&) = delete;

  // The monitor's socket, to poll next to the backend.
  zmq::socket_t& socket() { return monitor_; }

  // A message from `worker_id` arrived on descriptor `fd` (as zmq_msg_get(ZMQ_SRCFD) says).
  void noteMessage(const std::string& worker_id, int fd);
  // The worker is gone from the broker's tables.
  void forget(const std::string& worker_id);
  // Forgets every worker for which `known` is false.
  void keepOnly(const std::function<bool(const std::string&)>& known);

  // Reads every waiting monitor event; returns the workers to probe now (their connection
  // closed) and schedules their later probes.
  std::vector<std::string> drain();
  // Workers whose scheduled probe is due at `now`.
  std::vector<std::string> dueProbes(TimePoint now);
  // When the next scheduled probe is due, if any.
  std::optional<TimePoint> nextProbe() const;

  // Connections closed since start (any peer).
  uint64_t disconnects() const { return disconnects_; }

 private:
  zmq::socket_t& backend_;                        // the watched ROUTER
  zmq::socket_t monitor_;                         // PAIR receiving its events
  const Clock& clock_;                            // schedules probes
  std::unordered_map<std::string, int> fd_of_;    // worker id -> descriptor of its messages
  std::multimap<TimePoint, std::string> probes_;  // due time -> worker to probe
  uint64_t disconnects_ = 0;                      // see disconnects()
};

// The descriptor a received frame came from, or -1 if ZeroMQ cannot tell.
int sourceDescriptor(zmq::message_t& frame);

}  // namespace ccmesh::broker
