#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/worker_messages.hpp"
#include "ccmesh/monitoring/loop_mailbox.hpp"
#include "ccmesh/worker/session_context.hpp"
#include "ccmesh/worker/worker_config.hpp"
#include "ccmesh/worker/worker_meter.hpp"

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

  // Counts spawns, crashes, recycles and lease renewals from now on (before run()).
  void setMeter(WorkerMeter& meter);
  // Jobs other threads (the HTTP endpoint's) run on the loop, which owns the sessions.
  monitoring::LoopMailbox& mailbox() { return mailbox_; }

  // Whether the worker serves: registered with a broker, holding its lease, not stopping.
  struct Readiness {
    bool ready = false;
    std::string reason;  // why not, when not
  };
  // The figures its metrics sample (on the loop).
  struct Figures {
    std::string id;                          // --id
    std::string broker;                      // --broker
    uint32_t capacity = 0;                   // --capacity
    uint32_t max_live = 0;                   // --max-live (0: capacity)
    std::map<std::string, uint64_t> states;  // sessions by state
    uint64_t live = 0;                       // sessions with a live CLI
    uint64_t hibernated = 0;                 // sessions without one, hibernated
    uint64_t rss_bytes = 0;                  // resident memory of the live CLIs, summed
    uint64_t queued = 0;                     // prompts waiting in the sessions' turn queues
    uint64_t malformed = 0;                  // broker messages refused as malformed
    uint64_t dropped = 0;                    // messages dropped for a full link queue
    uint64_t reconnects = 0;                 // times the link was made anew
    Readiness readiness;                     // see readiness()
  };
  // On the loop's thread.
  Readiness readiness() const;
  Figures figures();
  // Every session held: its state as the broker hears it, and its prompts in the queue.
  std::vector<std::pair<msg::SessionUpdate, std::size_t>> sessions();

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

  WorkerConfig config_;                        // as configured
  const Clock& clock_;                         // time source
  std::shared_ptr<spdlog::logger> log_;        // the "worker" logger
  SessionContext context_;                     // shared by every session
  std::unique_ptr<zmq::context_t> zmq_;        // declared before the socket: destroyed after it
  std::unique_ptr<SignalPipe> signals_;        // SIGCHLD/SIGTERM/SIGINT as bytes
  std::unique_ptr<CliWatch> cli_watch_;        // every CLI's pipes, as one descriptor
  std::unique_ptr<BrokerLink> link_;           // the DEALER and its queue
  std::unique_ptr<SessionTable> table_;        // the sessions
  monitoring::LoopMailbox mailbox_;            // jobs from other threads
  WorkerMeter* meter_ = &WorkerMeter::none();  // see setMeter()
  bool shutting_down_ = false;                 // SIGTERM/SIGINT seen
  TimePoint shutdown_deadline_{};              // kill what still runs at this time
  uint64_t malformed_ = 0;                     // rejected broker messages
  uint64_t fences_ = 0;                        // times the lease lapsed with sessions held
  std::optional<TimePoint> shared_lease_;      // the expiry the keeper knows
  std::optional<std::string> refused_;         // why the broker will never take this worker
};

}  // namespace ccmesh::worker
