#include "ccmesh/broker/broker.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <span>
#include <thread>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/curve_keys.hpp"
#include "ccmesh/common/logging.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/signal_pipe.hpp"
#include "ccmesh/common/socket_io.hpp"
#include "core/broker_core.hpp"
#include "core/status_counters.hpp"
#include "feed/watch_feed.hpp"
#include "ha/declaration_replica.hpp"
#include "ha/leader_election.hpp"
#include "handlers/client_request_handler.hpp"
#include "handlers/pool_request_handler.hpp"
#include "handlers/worker_message_handler.hpp"
#include "peer_name.hpp"
#include "rate_limited_log.hpp"
#include "transport/disconnect_watch.hpp"
#include "transport/outbox.hpp"
#include "transport/zap_authenticator.hpp"

namespace ccmesh::broker {
namespace {

// Messages handled per socket per wakeup before the loop looks at timers again.
constexpr int kBatch = 256;

// Per-peer send queue bounds. Workers are trusted and everything sent to them is bounded by
// what clients asked, so their pipes are deep; a worker this far behind is declared lost.
constexpr int kClientSendHwm = 100000;
constexpr int kWorkerSendHwm = 1000000;

// How long a port still in use is tried again before binding fails.
constexpr Millis kRebindWait{2000};

// Opens and binds one ROUTER socket; returns the endpoint as bound. A non-empty
// `curve_secret` makes it a CURVE server checked by the ZAP handler under `zap_domain`.
std::string bindRouter(zmq::socket_t& socket, const std::string& endpoint, int send_hwm,
                       bool handover, const char* role, const std::string& curve_secret,
                       std::string_view zap_domain) {
  applyCommonOptions(socket);
  if (!curve_secret.empty()) applyCurveServer(socket, curve_secret, std::string(zap_domain));
  socket.set(zmq::sockopt::router_mandatory, 1);
  socket.set(zmq::sockopt::sndhwm, send_hwm);
  if (handover) socket.set(zmq::sockopt::router_handover, 1);
  // A broker that starts over (high availability) binds the ports its predecessor in this
  // process just closed; the I/O thread releases them a moment later.
  const auto give_up = std::chrono::steady_clock::now() + kRebindWait;
  while (true) {
    try {
      socket.bind(endpoint);
      break;
    } catch (const zmq::error_t& e) {
      if (e.num() != EADDRINUSE || std::chrono::steady_clock::now() >= give_up) {
        throw ConfigError(std::string("cannot bind the ") + role + " to " + endpoint + ": " +
                          e.what());
      }
      std::this_thread::sleep_for(Millis(20));
    }
  }
  return socket.get(zmq::sockopt::last_endpoint);
}

// Where this incarnation's request ids start: replies a worker still holds for a broker that
// died must never match a request of this one. The wall clock in microseconds, times 1024:
// the previous broker would have had to issue more than 1024 ids per microsecond of its
// life to reach it. Brokers of one process (tests) also start 2^32 apart.
uint64_t firstRequestId() {
  static std::atomic<uint64_t> last{0};
  const auto epoch_us = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  const uint64_t wanted = static_cast<uint64_t>(epoch_us.count()) << 10;
  uint64_t previous = last.load();
  uint64_t first = 0;
  do {
    first = std::max(wanted, previous + (uint64_t{1} << 32));
  } while (!last.compare_exchange_weak(previous, first));
  return first;
}

}  // namespace

Broker::Broker(BrokerConfig config, zmq::context_t& context, const Clock& clock)
    : config_(std::move(config)),
      context_(context),
      clock_(clock),
      logger_(componentLogger("broker")),
      frontend_(context, zmq::socket_type::router),
      backend_(context, zmq::socket_type::router),
      started_(clock.now()),
      next_heartbeat_(clock.now() + config_.heartbeat) {
  warnings_ = std::make_unique<RateLimitedLog>(logger_, clock_);
  outbox_ = std::make_unique<Outbox>(frontend_, backend_, config_.client_backlog_limit);
  auto transcripts = std::make_unique<TranscriptStore>(
      TranscriptLimits{config_.transcript_max_bytes, config_.transcript_total_bytes},
      config_.data_dir, logger_);
  transcripts->load();
  core_ = std::make_unique<BrokerCore>(config_, clock_, *outbox_, std::move(transcripts), logger_);
  counters_ = std::make_unique<StatusCounters>();
  core_->events().subscribe(*counters_);
  shown_ = std::make_unique<ShownEvents>(core_->pools());
  feed_ = std::make_unique<WatchFeed>(*outbox_, *shown_, config_.watch_queue_limit,
                                      config_.watch_gather);
  core_->events().subscribe(*feed_);
  access_ = std::make_unique<AccessControl>(config_, core_->sessions(), core_->requests(),
                                            core_->pools(), logger_);
  // The ZAP handler must be up before the CURVE sockets bind.
  if (access_->curve()) {
    zap_ = std::make_unique<ZapAuthenticator>(
        context, *access_,
        [this](const std::string& address) {
          core_->refused(event::Refusal::kHandshakeRefused, address);
        },
        *warnings_, logger_);
  }
  const std::string& secret = access_->secretKey();
  frontend_endpoint_ = bindRouter(frontend_, config_.frontend, kClientSendHwm, false, "frontend",
                                  secret, kClientsZapDomain);
  backend_endpoint_ = bindRouter(backend_, config_.backend, kWorkerSendHwm, true, "backend", secret,
                                 kWorkersZapDomain);
  // Clients of this process (the HTTP API) reach the frontend in memory: no handshake, no
  // key; AccessControl knows them by the User-Id their messages lack.
  // Brokers of one process (tests) each get their own name: a closed one's is freed late.
  static std::atomic<uint64_t> brokers{0};
  local_endpoint_ = "inproc://ccmesh-broker-" + std::to_string(++brokers);
  frontend_.bind(local_endpoint_);
  disconnects_ = std::make_unique<DisconnectWatch>(context, backend_, clock_);
  core_->startRequestIdsAt(firstRequestId());
  clients_ = std::make_unique<ClientRequestHandler>(
      *core_, *feed_, *access_, *warnings_, [this] { return stats(); }, started_);
  pools_handler_ = std::make_unique<PoolRequestHandler>(*core_, *access_, *warnings_);
  workers_handler_ = std::make_unique<WorkerMessageHandler>(*core_, *warnings_);
  logger_->info("frontend (clients) bound to {}", frontend_endpoint_);
  logger_->info("backend (workers) bound to {}", backend_endpoint_);
  if (config_.ha.enabled()) {
    // A standby until the election says otherwise.
    serving_ = false;
    election_view_ = std::make_unique<ElectionView>();
    const BrokerAddress self{
        config_.ha.name,
        config_.ha.advertise_frontend.empty() ? frontend_endpoint_ : config_.ha.advertise_frontend,
        config_.ha.advertise_backend.empty() ? backend_endpoint_ : config_.ha.advertise_backend};
    election_ = std::make_unique<LeaderElection>(
        config_.ha, self, [this] { mailbox_.wake(); }, logger_);
    clients_->reportHa([this] { return haStatus(); });
    election_->start();
  }
}

Broker::~Broker() {
  // The replies of a broker that steps down (or stops) still go out.
  frontend_.set(zmq::sockopt::linger, 1000);
  if (replica_ && serving_) core_->events().unsubscribe(*replica_);
  election_.reset();  // resigns first, so that a standby takes over at once
}

msg::HaStatus Broker::haStatus() const {
  msg::HaStatus ha;
  if (!election_view_) return ha;
  const ElectionView& view = *election_view_;
  ha.role = serving_                                      ? "leader"
            : view.role == ElectionView::Role::kCandidate ? "candidate"
                                                          : "standby";
  ha.name = config_.ha.name;
  ha.term = view.term;
  ha.cluster = config_.ha.cluster;
  for (const auto& member : view.members) {
    ha.members.push_back(
        msg::HaMember{member.address.name, member.address.frontend, member.leader});
  }
  return ha;
}

void Broker::followElection() {
  const uint64_t version = election_->version();
  const auto now = std::chrono::steady_clock::now();
  if (version != election_version_) {
    election_version_ = version;
    *election_view_ = election_->view();
  } else if (!serving_ || now < election_view_->serve_until) {
    return;  // nothing new, and the term has not run out
  }
  const ElectionView& view = *election_view_;
  const bool lead = view.role == ElectionView::Role::kLeader && now < view.serve_until;
  if (lead && !serving_ && !deposed_) {
    serving_ = true;
    core_->takeLeadership(view.term);
    if (auto declared = election_->takeDeclarations()) {
      std::vector<SessionSpec> sessions;
      std::vector<std::string> creators;
      std::vector<PoolSpec> pools;
      for (const auto& session : declared->sessions) {
        sessions.push_back(SessionSpec{session.name, session.options});
        creators.push_back(session.creator);
      }
      for (const auto& pool : declared->pools) pools.push_back(pool.spec());
      core_->restore(sessions, creators, pools);
    }
    // From now on what only this broker knows goes to etcd as it changes.
    replica_ = std::make_unique<DeclarationReplica>(
        core_->sessions(), core_->pools(),
        [this](DeclarationWrite write) { return election_->record(std::move(write)); });
    core_->events().subscribe(*replica_);
    // Workers connected while this broker was a standby know it as such: they ask again.
    return;
  }
  if (!lead && serving_) {
    serving_ = false;
    deposed_ = true;
    core_->events().unsubscribe(*replica_);
    core_->stepDown(view.role == ElectionView::Role::kLeader
                        ? "its etcd lease was not renewed in time"
                        : "it lost its etcd lease: " + view.problem);
    election_->stepDown();
    outbox_->flush();
  }
}

bool Broker::stillServing() {
  if (serving_ && election_ && std::chrono::steady_clock::now() >= election_view_->serve_until) {
    followElection();
  }
  return serving_;
}

void Broker::answerAsStandby(const std::string& routing_id, bool from_clients,
                             const Envelope& envelope) {
  // Nothing answers these, and a worker's error must not ping-pong.
  if (envelope.type == MessageType::kCancel || envelope.type == MessageType::kPermissionReply ||
      envelope.type == MessageType::kError) {
    return;
  }
  const ElectionView& view = *election_view_;
  msg::ErrorReply reply;
  reply.id = envelope.id;
  if (view.leader && view.leader->name != config_.ha.name) {
    reply.code = errorCodeName(ErrorCode::kNotLeader);
    reply.leader = from_clients ? view.leader->frontend : view.leader->backend;
    reply.message = "broker " + config_.ha.name + " is a standby of cluster " + config_.ha.cluster +
                    "; the leader is " + view.leader->name + " at " + reply.leader + " (term " +
                    std::to_string(view.term) + ")";
  } else {
    // No leader to name: none is elected yet, or this broker cannot reach etcd to know. Not
    // this broker, at any rate: clients and workers try the others.
    reply.code = errorCodeName(ErrorCode::kNotLeader);
    reply.message = "broker " + config_.ha.name + " does not serve cluster " + config_.ha.cluster +
                    " and knows no leader" +
                    (view.problem.empty() ? std::string() : ": " + view.problem);
  }
  if (from_clients) {
    outbox_->toClientBody(routing_id, MessageType::kError, reply);
  } else {
    outbox_->toWorker(routing_id, MessageType::kError, encodeBody(reply));
  }
}

void Broker::addSessions(const std::vector<SessionSpec>& specs) { core_->declare(specs); }

void Broker::addPools(const std::vector<PoolSpec>& specs) { core_->declarePools(specs); }

void Broker::observe(BrokerObserver& observer) { core_->events().subscribe(observer); }

void Broker::stopObserving(BrokerObserver& observer) { core_->events().unsubscribe(observer); }

BrokerStats Broker::stats() const {
  BrokerStats stats = counters_->counted();
  stats.dropped_events = outbox_->droppedEvents();
  stats.dropped_replies = outbox_->droppedReplies();
  return stats;
}

msg::StatusResult Broker::status() const { return clients_->status(0); }
msg::ListResult Broker::list() const { return clients_->list(0); }
msg::CountResult Broker::count() const { return clients_->count(0); }
msg::PoolListResult Broker::poolList() const { return pools_handler_->list(0); }
std::size_t Broker::watchers() const { return feed_->watchers(); }

const SessionRegistry& Broker::sessions() const { return core_->sessions(); }
const WorkerTable& Broker::workers() const { return core_->workers(); }
const RequestTable& Broker::requests() const { return core_->requests(); }
const PoolRegistry& Broker::pools() const { return core_->pools(); }
const TranscriptStore& Broker::transcripts() const { return core_->transcripts(); }

bool Broker::run(SignalPipe& signals) {
  while (!deposed_) {
    if (!pollOnce(config_.heartbeat, signals.fd())) continue;
    const SignalPipe::Signals got = signals.drain();
    if (got.reloads > 0) reloadAllowLists();
    if (got.stop_requests > 0) break;
  }
  // Events gathered for watchers go now rather than wait out their window.
  feed_->flushAll();
  if (deposed_) {
    logger_->warn(
        "no longer the leader: dropping what this broker held to start over as a "
        "standby");
    return true;
  }
  logger_->info("stopping: {} worker(s), {} session(s), {} request(s) in flight",
                core_->workers().size(), core_->sessions().size(), core_->requests().size());
  return false;
}

bool Broker::pollOnce(Millis max_wait, int wake_fd) {
  if (election_) followElection();
  auto wait = std::clamp(std::min(max_wait, untilNextTimer()), Millis(0), max_wait);
  if (serving_ && election_) {
    // Wake when the term runs out, renewed or not.
    const auto left =
        std::chrono::ceil<Millis>(election_view_->serve_until - std::chrono::steady_clock::now());
    wait = std::clamp(left, Millis(0), wait);
  }
  if (outbox_->hasBacklog() || feed_->hasBacklog()) wait = std::min(wait, Millis(5));
  if (auto batch = feed_->nextFlush()) {
    const auto left = std::chrono::ceil<Millis>(*batch - std::chrono::steady_clock::now());
    wait = std::clamp(left, Millis(0), wait);
  }
  std::array<zmq::pollitem_t, 6> items{{
      {frontend_.handle(), 0, ZMQ_POLLIN, 0},
      {backend_.handle(), 0, ZMQ_POLLIN, 0},
      {disconnects_->socket().handle(), 0, ZMQ_POLLIN, 0},
      {nullptr, mailbox_.fd(), ZMQ_POLLIN, 0},
  }};
  std::size_t count = 4;
  const std::size_t zap_index = count;
  if (zap_) items[count++] = {zap_->socket().handle(), 0, ZMQ_POLLIN, 0};
  const std::size_t wake_index = count;
  if (wake_fd >= 0) items[count++] = {nullptr, wake_fd, ZMQ_POLLIN, 0};
  try {
    zmq::poll(items.data(), count, wait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    return false;  // a signal: the self-pipe is readable at the next poll
  }
  if (election_) {
    followElection();
    releaseDeclared();
  }
  // Handshakes first: a peer's first message waits for them.
  if (zap_ && (items[zap_index].revents & ZMQ_POLLIN)) zap_->drain(kBatch);
  // Closed worker connections: probe their workers at once (dead ones are reaped below).
  if (items[2].revents & ZMQ_POLLIN) {
    for (const auto& worker_id : disconnects_->drain()) core_->probe(worker_id);
  }
  if (items[1].revents & ZMQ_POLLIN) drain(backend_, false, kBatch);
  if (items[0].revents & ZMQ_POLLIN) drain(frontend_, true, kBatch);
  runTimers();
  outbox_->flush();
  feed_->flush();
  reapLost();
  if (items[3].revents & ZMQ_POLLIN) mailbox_.runPending();
  return wake_fd >= 0 && (items[wake_index].revents & ZMQ_POLLIN) != 0;
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
    if (!from_clients && frames_.size() > 1) {
      // Which connection the worker talks on, so a closed one is traced back to it.
      if (const auto* worker = core_->workers().findByRoutingId(frames_[0].to_string())) {
        disconnects_->noteMessage(worker->id, sourceDescriptor(frames_[1]));
      }
    }
  }
}

void Broker::handleMessage(std::vector<zmq::message_t>& frames, bool from_clients) {
  if (frames.empty()) return;
  const std::string routing_id = frames[0].to_string();
  try {
    const auto caller = access_->identify(frames, from_clients);
    const auto message = std::span<const zmq::message_t>(frames).subspan(1);
    // The messages sent most need only a few of their fields: a client's query, a worker's
    // streamed events (and deliveries, heartbeats, results).
    const bool in_place =
        caller && (!election_ || stillServing()) &&
        (from_clients ? queryInPlace(*caller, routing_id, message)
                      : workers_handler_->handleInPlace(routing_id, message, caller->name));
    if (in_place) {
      reapLost();
      return;
    }
    auto envelope = decodeFrames(message);
    if (!caller) return refuseUnknownKey(routing_id, from_clients, envelope ? envelope->id : 0);
    if (election_ && envelope && !stillServing()) {
      answerAsStandby(routing_id, from_clients, *envelope);
      return;
    }
    if (!envelope) {
      rejectFrames(routing_id, from_clients, envelope.error().id, envelope.error().error);
      return;
    }
    if (from_clients) {
      const auto hold = holdForDeclarations(routing_id, *envelope);
      handleClient(*caller, routing_id, *envelope);
      if (hold) settleDeclarations(routing_id, *hold);
    } else {
      workers_handler_->handle(routing_id, *envelope, caller->name);
    }
  } catch (const std::exception& e) {
    // A bug, or memory exhaustion; the loop goes on. Never expected from peer input.
    logger_->error("[{} {}] failed to handle a message: {}", from_clients ? "client" : "peer",
                   peerName(routing_id), e.what());
  }
  reapLost();
}

std::optional<Broker::DeclarationHold> Broker::holdForDeclarations(const std::string& client,
                                                                   const Envelope& envelope) {
  const MessageType type = envelope.type;
  const bool declares = type == MessageType::kStart || type == MessageType::kTerminate ||
                        type == MessageType::kPoolCreate || type == MessageType::kPoolResize ||
                        type == MessageType::kPoolDelete || type == MessageType::kBudget;
  if (!replica_ || !serving_ || !declares) return std::nullopt;
  // What this request declares must be in etcd before the client hears of it: a leader
  // that dies in between would otherwise have answered for something the next one does not
  // know. Everything to this client waits meanwhile, in order; released by
  // releaseDeclared() even if handling the request fails.
  DeclarationHold hold{replica_->lastRecorded(), std::nullopt};
  // A session being terminated is no longer declared from the moment the request is taken
  // (its worker confirms later), so that no later leader starts it again.
  if (type == MessageType::kTerminate) {
    auto request = decodeBody<msg::Terminate>(envelope);
    if (request.ok() && core_->sessions().find(request.value().session) != nullptr) {
      hold.terminated = request.value().session;
    }
  }
  outbox_->hold(client);
  held_clients_.try_emplace(client, 0);
  return hold;
}

void Broker::settleDeclarations(const std::string& client, const DeclarationHold& hold) {
  if (hold.terminated) {
    const auto* entry = core_->sessions().find(*hold.terminated);
    if (entry == nullptr || entry->terminating) replica_->forgetSession(*hold.terminated);
  }
  const uint64_t declared = replica_->lastRecorded();
  auto& waits_for = held_clients_[client];
  if (declared > hold.before) waits_for = std::max(waits_for, declared);
  releaseDeclared();
}

void Broker::releaseDeclared() {
  if (held_clients_.empty()) return;
  const uint64_t written = election_->written();
  for (auto it = held_clients_.begin(); it != held_clients_.end();) {
    if (it->second > written) {
      ++it;
      continue;
    }
    outbox_->release(it->first);
    it = held_clients_.erase(it);
  }
  outbox_->flush();
}

void Broker::reapLost() {
  for (const auto& client : outbox_->takeLostClients()) {
    feed_->clientLost(client);
    core_->clientLost(client);
  }
  core_->reapLost();
}

bool Broker::queryInPlace(const Caller& caller, const std::string& routing_id,
                          std::span<const zmq::message_t> message) {
  const auto query = clients_->readQuery(message);
  if (!query) return false;
  if (admitted(caller, routing_id, MessageType::kQuery, query->id)) {
    clients_->query(routing_id, *query);
  }
  return true;
}

bool Broker::admitted(const Caller& caller, const std::string& routing_id, MessageType type,
                      uint64_t id) {
  // Before anything answers with that id: the client matches replies by id, so any answer
  // would look like the end of the request already in flight. (The id of a cancel or a
  // permission_reply names that request.)
  if (type != MessageType::kCancel && type != MessageType::kPermissionReply && id != 0 &&
      core_->refuseDuplicateId(routing_id, id, feed_->holds(routing_id, id))) {
    warnings_->warn("[client {}] request id {} reused while in flight", peerName(routing_id), id);
    return false;
  }
  if (auto refusal = access_->admit(caller, routing_id, type, id)) {
    if (refusal->code == ErrorCode::kUnauthorized) {
      core_->refused(event::Refusal::kUnauthorized, caller.name);
      warnings_->warn("[client {}] refused: {}", caller.name, refusal->message);
    }
    core_->replyError(routing_id, id, refusal->code, refusal->message);
    return false;
  }
  return true;
}

void Broker::handleClient(const Caller& caller, const std::string& routing_id,
                          const Envelope& envelope) {
  if (!admitted(caller, routing_id, envelope.type, envelope.id)) return;
  if (PoolRequestHandler::handles(envelope.type)) {
    pools_handler_->handle(routing_id, envelope, caller);
  } else {
    clients_->handle(routing_id, envelope, caller);
  }
}

void Broker::refuseUnknownKey(const std::string& routing_id, bool from_clients, uint64_t id) {
  core_->refused(event::Refusal::kUnauthorized, peerName(routing_id));
  const char* list = from_clients ? "--clients-allow" : "--workers-allow";
  warnings_->warn("[{} {}] message refused: its key is not (or no longer) in {}",
                  from_clients ? "client" : "peer", peerName(routing_id), list);
  msg::ErrorReply reply;
  reply.id = id;
  reply.code = errorCodeName(ErrorCode::kUnauthorized);
  reply.message = std::string("this key is not (or no longer) in the broker's ") + list;
  if (from_clients) {
    outbox_->toClientBody(routing_id, MessageType::kError, reply);
    return;
  }
  // A worker whose key was removed: its sessions move to workers still allowed.
  if (const auto* worker = core_->workers().findByRoutingId(routing_id)) {
    const std::string worker_id = worker->id;  // workerLost forgets the entry
    core_->workerLost(worker_id, event::LossCause::kUnauthorized,
                      "its key was removed from the workers' allow-list");
  }
  outbox_->toWorker(routing_id, MessageType::kError, encodeBody(reply));
}

void Broker::reloadAllowLists() {
  if (!access_->curve()) {
    logger_->info("SIGHUP: nothing to reload (CURVE is off)");
    return;
  }
  try {
    access_->reload();
    core_->allowListsReloaded(true);
    logger_->info("allow-lists reloaded: {} client key(s), {} worker key(s)", access_->clientKeys(),
                  access_->workerKeys());
  } catch (const ConfigError& e) {
    core_->allowListsReloaded(false);
    logger_->error("allow-lists NOT reloaded, the previous ones stay in force: {}", e.what());
  }
}

void Broker::rejectFrames(const std::string& routing_id, bool from_clients, uint64_t id,
                          const Error& error) {
  core_->refused(event::Refusal::kMalformed, peerName(routing_id));
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
    core_->sendHeartbeats();
    next_heartbeat_ = now + config_.heartbeat;
    disconnects_->keepOnly(
        [this](const std::string& id) { return core_->workers().find(id) != nullptr; });
  }
  for (const auto& worker_id : disconnects_->dueProbes(now)) core_->probe(worker_id);
  core_->expire(now);
}

Millis Broker::untilNextTimer() const {
  const auto now = clock_.now();
  auto next = next_heartbeat_;
  if (auto deadline = core_->nextDeadline()) next = std::min(next, *deadline);
  if (auto probe = disconnects_->nextProbe()) next = std::min(next, *probe);
  // Round up so the loop does not wake a hair early and spin.
  auto left = std::chrono::ceil<Millis>(next - now);
  return std::max(left, Millis(0));
}

}  // namespace ccmesh::broker
