#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::bench {

// Many idle workers in one process: DEALER sockets that each send `ready` (no sessions)
// and then a heartbeat every `heartbeat`, and read whatever the broker sends them (sending
// `ready` again when asked to rejoin), on a thread of their own. What the broker sees is
// what it would see from real idle workers.
class SimulatedWorkers {
 public:
  SimulatedWorkers(std::string backend, std::size_t count, Millis heartbeat);
  // Stops the thread and closes every socket.
  ~SimulatedWorkers();
  SimulatedWorkers(const SimulatedWorkers&) = delete;
  SimulatedWorkers& operator=(const SimulatedWorkers&) = delete;

  // Heartbeats sent and messages received so far, all workers together.
  uint64_t heartbeatsSent() const { return sent_.load(); }
  uint64_t messagesReceived() const { return received_.load(); }
  // Times the broker declared one of them dead and asked it to register again.
  uint64_t rejoins() const { return rejoins_.load(); }

 private:
  void run();

  std::string backend_;                // the broker's worker endpoint
  std::size_t count_;                  // how many workers
  Millis heartbeat_;                   // each worker's heartbeat interval
  zmq::context_t context_{1};          // one I/O thread for all of them
  std::atomic<bool> stop_{false};      // tells the thread to leave
  std::atomic<uint64_t> sent_{0};      // see heartbeatsSent()
  std::atomic<uint64_t> received_{0};  // see messagesReceived()
  std::atomic<uint64_t> rejoins_{0};   // see rejoins()
  std::thread thread_;                 // runs every socket
};

}  // namespace ccmesh::bench
