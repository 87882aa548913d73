#include "ccmesh/broker/broker.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <span>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/logging.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/socket_io.hpp"
#include "client_request_handler.hpp"
#include "outbox.hpp"
#include "peer_name.hpp"
#include "rate_limited_log.hpp"
#include "session_router.hpp"
#include "worker_message_handler.hpp"

namespace ccmesh::broker {
namespace {

// Messages handled per socket per wakeup before the loop looks at timers again.
constexpr int kBatch = 256;

// Per-peer send queue bounds. Workers are trusted and everything sent to them is bounded by
// what clients asked, so their pipes are deep; a worker this far behind is declared lost.
constexpr int kClientSendHwm = 100000;
constexpr int kWorkerSendHwm = 1000000;

// Opens and binds one ROUTER socket; returns the endpoint as bound.
std::string bindRouter(zmq::socket_t& socket, const std::string& endpoint, int send_hwm,
                       bool handover, const char* role) {
  applyCommonOptions(socket);
  socket.set(zmq::sockopt::router_mandatory, 1);
  socket.set(zmq::sockopt::sndhwm, send_hwm);
  if (handover) socket.set(zmq::sockopt::router_handover, 1);
  try {
    socket.bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw ConfigError(std::string("cannot bind the ") + role + " to " + endpoint + ": " + e.what());
  }
  return socket.get(zmq::sockopt::last_endpoint);
}

}  // namespace

Broker::Broker(BrokerConfig config, zmq::context_t& context, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      logger_(componentLogger("broker")),
      frontend_(context, zmq::socket_type::router),
      backend_(context, zmq::socket_type::router),
      started_(clock.now()),
      next_heartbeat_(clock.now() + config_.heartbeat) {
  frontend_endpoint_ = bindRouter(frontend_, config_.frontend, kClientSendHwm, false, "frontend");
  backend_endpoint_ = bindRouter(backend_, config_.backend, kWorkerSendHwm, true, "backend");
  warnings_ = std::make_unique<RateLimitedLog>(logger_, clock_);
  outbox_ = std::make_unique<Outbox>(frontend_, backend_, config_.client_backlog_limit, stats_);
  router_ = std::make_unique<SessionRouter>(config_, clock_, sessions_, workers_, requests_,
                                            *outbox_, stats_, logger_);
  clients_ = std::make_unique<ClientRequestHandler>(*router_, *warnings_, started_);
  workers_handler_ = std::make_unique<WorkerMessageHandler>(*router_, *warnings_);
  logger_->info("frontend (clients) bound to {}", frontend_endpoint_);
  logger_->info("backend (workers) bound to {}", backend_endpoint_);
}

Broker::~Broker() = default;

void Broker::addSessions(const std::vector<SessionSpec>& specs) {
  for (const auto& spec : specs) {
    if (!sessions_.add(spec.name, spec.options)) {
      logger_->warn("[session {}] declared twice; the first declaration wins", spec.name);
    }
  }
  if (!specs.empty()) {
    logger_->info("{} session(s) from the sessions file, pending until workers connect",
                  specs.size());
  }
  router_->placePending();
}

void Broker::run(const std::atomic<bool>& stop, int wake_fd) {
  while (!stop.load()) pollOnce(config_.heartbeat, wake_fd);
  logger_->info("stopping: {} worker(s), {} session(s), {} request(s) in flight", workers_.size(),
                sessions_.size(), requests_.size());
}

void Broker::pollOnce(Millis max_wait, int wake_fd) {
  auto wait = std::clamp(std::min(max_wait, untilNextTimer()), Millis(0), max_wait);
  if (outbox_->hasBacklog()) wait = std::min(wait, Millis(5));
  std::array<zmq::pollitem_t, 3> items{{
      {frontend_.handle(), 0, ZMQ_POLLIN, 0},
      {backend_.handle(), 0, ZMQ_POLLIN, 0},
      {nullptr, wake_fd, ZMQ_POLLIN, 0},
  }};
  const std::size_t count = wake_fd >= 0 ? 3 : 2;
  try {
    zmq::poll(items.data(), count, wait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    return;  // a signal: the caller checks its stop flag
  }
  if (items[1].revents & ZMQ_POLLIN) drain(backend_, false, kBatch);
  if (items[0].revents & ZMQ_POLLIN) drain(frontend_, true, kBatch);
  if (count == 3 && (items[2].revents & ZMQ_POLLIN)) {
    char buffer[64];
    while (::read(wake_fd, buffer, sizeof buffer) > 0) {
    }
  }
  runTimers();
  outbox_->flush();
  router_->reapLost();
}

void Broker::drain(zmq::socket_t& socket, bool from_clients, int budget) {
  for (int i = 0; i < budget; ++i) {
    bool oversized = false;
    if (!receiveMessage(socket, frames_, oversized)) return;
    if (oversized) {
      const std::string routing_id = frames_.empty() ? "" : frames_[0].to_string();
      rejectFrames(routing_id, from_clients, 0,
                   {ErrorCode::kBadRequest, "too many frames (expected [CCM1][type][body])"});
      continue;
    }
    handleMessage(frames_, from_clients);
  }
}

void Broker::handleMessage(std::vector<zmq::message_t>& frames, bool from_clients) {
  if (frames.empty()) return;
  const std::string routing_id = frames[0].to_string();
  try {
    auto envelope = decodeFrames(std::span<const zmq::message_t>(frames).subspan(1));
    if (!envelope) {
      rejectFrames(routing_id, from_clients, envelope.error().id, envelope.error().error);
      return;
    }
    if (from_clients) {
      clients_->handle(routing_id, *envelope);
    } else {
      workers_handler_->handle(routing_id, *envelope);
    }
  } catch (const std::exception& e) {
    // A bug, or memory exhaustion; the loop goes on. Never expected from peer input.
    logger_->error("[{} {}] failed to handle a message: {}", from_clients ? "client" : "peer",
                   peerName(routing_id), e.what());
  }
  router_->reapLost();
}

void Broker::rejectFrames(const std::string& routing_id, bool from_clients, uint64_t id,
                          const Error& error) {
  ++stats_.malformed_messages;
  warnings_->warn("[{} {}] malformed message: {}", from_clients ? "client" : "peer",
                  peerName(routing_id), error.message);
  msg::ErrorReply reply{id, std::string(errorCodeName(error.code)), error.message, {}, {}};
  if (from_clients) {
    outbox_->toClientBody(routing_id, MessageType::kError, reply);
  } else {
    outbox_->toWorker(routing_id, MessageType::kError, encodeBody(reply));
  }
}

void Broker::runTimers() {
  const auto now = clock_.now();
  if (now >= next_heartbeat_) {
    router_->sendHeartbeats();
    next_heartbeat_ = now + config_.heartbeat;
  }
  router_->checkLiveness(now);
  router_->reapLost();
  router_->expireRequests(now);
}

Millis Broker::untilNextTimer() const {
  const auto now = clock_.now();
  auto next = next_heartbeat_;
  if (auto deadline = requests_.nextDeadline()) next = std::min(next, *deadline);
  if (auto oldest = workers_.oldestLastHeard()) {
    next = std::min(next, *oldest + config_.heartbeat * config_.liveness + Millis(1));
  }
  // Round up so the loop does not wake a hair early and spin.
  auto left = std::chrono::ceil<Millis>(next - now);
  return std::max(left, Millis(0));
}

}  // namespace ccmesh::broker
