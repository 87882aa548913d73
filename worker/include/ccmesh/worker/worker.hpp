#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/error_code.hpp"
#include "ccmesh/worker/session_context.hpp"
#include "ccmesh/worker/worker_config.hpp"

namespace ccmesh {
class SignalPipe;
}  // namespace ccmesh

namespace ccmesh::worker {

class BrokerLink;
class CliWatch;
class SessionTable;

// ccmesh-worker's event loop: one zmq::poll over the broker DEALER, every CLI's stdout,
// stderr (and stdin while input waits) and the signal self-pipe, plus timers. Decodes broker
// requests into the session table, never throws out of the loop for anything a peer or a
// CLI does, and on SIGTERM/SIGINT stops every session gently, says `bye` and returns.
class Worker {
 public:
  Worker(WorkerConfig config, const Clock& clock);
  ~Worker();

  // Runs until SIGTERM/SIGINT (returns 0), or until the broker refuses this worker for its
  // key or id (returns 1 at once: retrying cannot help).
  int run();

 private:
  void pollOnce();
  void receiveFromBroker();
  void dispatch(std::vector<zmq::message_t>& frames, bool oversized);
  void reject(ErrorCode code, const std::string& message, uint64_t id);
  void handleSignals();
  void beginShutdown();
  void reconnect();
  // Stops every session when the lease has lapsed (self-fencing); true if it did.
  bool enforceLease();
  // Reads and writes the CLI pipes that are ready (after the broker's messages and the
  // signals: a CLI that exited meanwhile has closed its pipes, and they left the set).
  void serveClis();
  // Tells the process-group keeper a lease expiry it has not heard yet.
  void shareLease();
  // Sets refused_ when the broker refused the security handshake for good.
  void noteRefusedHandshake();
  void sayGoodbye();
  Millis pollTimeout() const;

  WorkerConfig config_;                    // as configured
  const Clock& clock_;                     // time source
  std::shared_ptr<spdlog::logger> log_;    // the "worker" logger
  SessionContext context_;                 // shared by every session
  std::unique_ptr<zmq::context_t> zmq_;    // declared before the socket: destroyed after it
  std::unique_ptr<SignalPipe> signals_;    // SIGCHLD/SIGTERM/SIGINT as bytes
  std::unique_ptr<CliWatch> cli_watch_;    // every CLI's pipes, as one descriptor
  std::unique_ptr<BrokerLink> link_;       // the DEALER and its queue
  std::unique_ptr<SessionTable> table_;    // the sessions
  bool shutting_down_ = false;             // SIGTERM/SIGINT seen
  TimePoint shutdown_deadline_{};          // kill what still runs at this time
  uint64_t malformed_ = 0;                 // rejected broker messages
  uint64_t fences_ = 0;                    // times the lease lapsed with sessions held
  std::optional<TimePoint> shared_lease_;  // the expiry the keeper knows
  std::optional<std::string> refused_;     // why the broker will never take this worker
};

}  // namespace ccmesh::worker
