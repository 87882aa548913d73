#include "ccmesh/worker/worker.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>

#include <array>
#include <zmq.hpp>

#include "broker_link.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/logging.hpp"
#include "ccmesh/common/signal_pipe.hpp"
#include "ccmesh/common/socket_io.hpp"
#include "ccmesh/common/version.hpp"
#include "cli_watch.hpp"
#include "group_keeper.hpp"
#include "session_table.hpp"

namespace ccmesh::worker {
namespace {

// Bytes read from one CLI descriptor per loop iteration, so a flood cannot starve others.
constexpr std::size_t kReadBudget = 1u << 20;
// Broker messages handled per loop iteration.
constexpr int kMessagesPerIteration = 512;
// Longest poll wait (keeps timers honest even if a deadline computation is off).
constexpr Millis kMaxPollWait{1000};
// Time for `bye` and final replies to leave after the sessions stopped.
constexpr Millis kGoodbyeWait{1000};
// Handshakes closed in a row after which the broker is taken to refuse this worker's keys
// (a wrong --curve-server-key looks like that; a broker dying mid-handshake does not repeat).
constexpr uint32_t kClosedHandshakesMeaningRefused = 3;

// `ready` with the live budget's figures (max_live, live, hibernated).
msg::Ready withLoad(msg::Ready ready, const SessionTable& table) {
  const msg::Load load = table.load();
  ready.max_live = load.max_live;
  ready.live = load.live;
  ready.hibernated = load.hibernated;
  return ready;
}

}  // namespace

Worker::Worker(WorkerConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock), log_(componentLogger("worker")) {
  context_.worker_id = config_.id;
  context_.cli =
      CliSettings{config_.cli, config_.cli_args, config_.cli_env, config_.transcript_mirror};
  context_.base_env = CliCommand::currentEnvironment();
  context_.queue_depth = config_.queue_depth;
  context_.query_timeout = config_.query_timeout;
  context_.stop_grace = config_.stop_grace;
  context_.delta_window = config_.delta_window;
  context_.idle_timeout = config_.idle_timeout;
  context_.transcript_retain_bytes = config_.transcript_retain_bytes;
  context_.clock = &clock_;
  context_.log = log_;
  context_.policy = OptionPolicy(
      config_.allow_permission_modes,
      config_.allowed_roots.empty() ? OptionPolicy::defaultRoots() : config_.allowed_roots,
      config_.allow_session_env, config_.allow_mcp_commands);
  zmq_ = std::make_unique<zmq::context_t>(1);
  zmq_->set(zmq::ctxopt::blocky, 0);
  signals_ = std::make_unique<SignalPipe>(std::initializer_list<int>{SIGCHLD, SIGTERM, SIGINT});
  cli_watch_ = std::make_unique<CliWatch>();
  link_ = std::make_unique<BrokerLink>(*zmq_, config_.broker, config_.id, config_.heartbeat,
                                       config_.liveness, clock_, log_);
  if (config_.curve) link_->useCurve(*config_.curve);
  table_ = std::make_unique<SessionTable>(
      context_, config_.capacity,
      [this](MessageType type, msgpack::sbuffer body) { link_->enqueue(type, std::move(body)); },
      config_.max_live);
  table_->watchLinkBacklog([this] { return link_->wantsWrite(); });
}

Worker::~Worker() {
  table_.reset();  // kills any CLI still running, before the signal handlers go
  link_.reset();
  signals_.reset();
}

int Worker::run() {
  log_->info("worker {} starting (cli {}, capacity {})", config_.id, config_.cli, config_.capacity);
  link_->connect(
      withLoad(msg::Ready{config_.id, config_.capacity, config_.labels, {}, kVersion}, *table_));
  while (!refused_ &&
         !(shutting_down_ && (table_->empty() || clock_.now() >= shutdown_deadline_))) {
    try {
      pollOnce();
    } catch (const std::exception& e) {
      // Nothing a peer or a CLI does may end the loop; log and carry on.
      log_->error("event loop: {}", e.what());
    }
  }
  if (refused_) {
    // Retrying cannot help, and the broker has given (or will give) its names to others.
    table_->killAll();
    log_->critical(
        "the broker at {} refuses this worker ({}): {}; fix that and start the "
        "worker again. Exiting with status 1.",
        config_.broker, config_.id, *refused_);
    return 1;
  }
  if (!table_->empty()) {
    log_->warn("sessions still running at the shutdown deadline; killing them");
    table_->killAll();
  }
  sayGoodbye();
  log_->info("worker {} stopped", config_.id);
  return 0;
}

void Worker::pollOnce() {
  cli_watch_->begin();
  table_->forEachAwake([&](Session& session) {
    CliProcess* process = session.process();
    if (process == nullptr) return;
    auto add = [&](int fd, uint32_t events, CliWatch::Kind kind) {
      if (fd >= 0) cli_watch_->watch(fd, events, kind, session, process->pid());
    };
    add(process->outputFd(), EPOLLIN, CliWatch::Kind::kOutput);
    add(process->errorFd(), EPOLLIN, CliWatch::Kind::kErrors);
    add(process->pendingInputFd(), EPOLLOUT, CliWatch::Kind::kInput);
  });
  cli_watch_->commit();
  std::array<zmq::pollitem_t, 5> items{{
      {link_->socket().handle(), 0,
       static_cast<short>(ZMQ_POLLIN | (link_->wantsWrite() ? ZMQ_POLLOUT : 0)), 0},
      {nullptr, signals_->fd(), ZMQ_POLLIN, 0},
      {nullptr, cli_watch_->fd(), ZMQ_POLLIN, 0},
      {link_->handshakes()->socket().handle(), 0, ZMQ_POLLIN, 0},  // a refusal wakes the loop
      {nullptr, mailbox_.fd(), ZMQ_POLLIN, 0},
  }};
  try {
    zmq::poll(items.data(), items.size(), pollTimeout());
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
  }
  // Before anything reaches a CLI: a worker that was frozen or cut off may have lost the
  // right to run its sessions while it slept.
  if (enforceLease()) return;
  if (items[1].revents != 0) handleSignals();
  if (items[0].revents & ZMQ_POLLIN) receiveFromBroker();
  if (items[2].revents != 0) serveClis();
  if (items[4].revents != 0) mailbox_.runPending();
  // Reading the CLIs may have taken a while: hear the broker out before judging it silent.
  receiveFromBroker();
  table_->onTimer();
  const bool broker_silent = link_->onTimer();
  noteRefusedHandshake();  // before a reconnect forgets what the handshakes said
  if (broker_silent && !refused_) reconnect();
  link_->flush();
  table_->releaseDeltas();  // those whose window passed, or that waited for the link
}

void Worker::noteRefusedHandshake() {
  const HandshakeWatch* handshakes = link_->handshakes();
  if (refused_ || handshakes == nullptr || !handshakes->failure()) return;
  if (!handshakes->refused() && handshakes->failuresInARow() < kClosedHandshakesMeaningRefused) {
    return;
  }
  refused_ = *handshakes->failure() +
             " (list this worker's public key, the .pub beside --curve-secret, in the broker's "
             "--workers-allow file under the name " +
             config_.id + ", and give --curve-server-key the broker's public key)";
}

void Worker::serveClis() {
  for (const auto& ready : cli_watch_->ready()) {
    Session& session = *ready.session;
    switch (ready.kind) {
      case CliWatch::Kind::kOutput:
        session.onOutputReadable(kReadBudget);
        table_->releaseDeltas();  // what this read streamed leaves as one event per query
        break;
      case CliWatch::Kind::kErrors:
        session.onErrorsReadable(kReadBudget);
        break;
      case CliWatch::Kind::kInput:
        session.onInputWritable();
        break;
    }
  }
}

void Worker::shareLease() {
  const std::optional<TimePoint> expiry = link_->lease().expiry();
  if (expiry == shared_lease_) return;
  shared_lease_ = expiry;
  GroupKeeper::leaseUntil(
      expiry
          ? std::chrono::duration_cast<std::chrono::nanoseconds>(expiry->time_since_epoch()).count()
          : 0);
}

Millis Worker::pollTimeout() const {
  std::optional<TimePoint> next = link_->nextDeadline();
  if (auto expiry = link_->lease().expiry(); expiry && !table_->empty()) {
    if (!next || *expiry < *next) next = expiry;
  }
  if (auto sessions = table_->nextDeadline(); sessions && (!next || *sessions < *next)) {
    next = sessions;
  }
  // Held deltas waiting for the link leave when it can take them (the poll wakes then).
  if (auto deltas = table_->nextDeltaRelease(); deltas && !link_->wantsWrite()) {
    if (!next || *deltas < *next) next = deltas;
  }
  if (shutting_down_ && (!next || shutdown_deadline_ < *next)) next = shutdown_deadline_;
  if (!next) return kMaxPollWait;
  const auto left = std::chrono::ceil<Millis>(*next - clock_.now());
  return std::clamp(left, Millis(0), kMaxPollWait);
}

void Worker::receiveFromBroker() {
  std::vector<zmq::message_t> frames;
  bool oversized = false;
  for (int i = 0; i < kMessagesPerIteration; ++i) {
    if (!receiveMessage(link_->socket(), frames, oversized)) return;
    link_->noteHeard();
    dispatch(frames, oversized);
  }
}

void Worker::dispatch(std::vector<zmq::message_t>& frames, bool oversized) {
  if (oversized) {
    reject(ErrorCode::kBadRequest, "too many frames", 0);
    return;
  }
  auto envelope = decodeFrames(frames);
  if (!envelope) {
    reject(envelope.error().error.code, envelope.error().error.message, envelope.error().id);
    return;
  }
  // Decodes the body as T, or answers bad_request and returns nullopt.
  auto body = [&]<class T>(std::type_identity<T>) -> std::optional<T> {
    auto decoded = decodeBody<T>(*envelope);
    if (!decoded) {
      reject(decoded.error().error.code, decoded.error().error.message, decoded.error().id);
      return std::nullopt;
    }
    return std::move(decoded.value());
  };
  switch (envelope->type) {
    case MessageType::kWelcome:
      if (auto welcome = body(std::type_identity<msg::Welcome>{})) {
        if (!link_->acceptTerm(welcome->term)) break;  // a deposed leader: no lease from it
        if (auto round_trip = link_->adopt(*welcome)) meter_->onLeaseRenewed(*round_trip);
        shareLease();
        // What a broker that restarted (or refused a message before `ready`) never stored.
        table_->resendTranscripts();
      }
      break;
    case MessageType::kTranscriptAck:
      if (auto ack = body(std::type_identity<msg::TranscriptAck>{})) table_->transcriptAck(*ack);
      break;
    case MessageType::kTranscriptSeed:
      if (auto seed = body(std::type_identity<msg::TranscriptSeed>{})) {
        table_->transcriptSeed(*seed);
      }
      break;
    case MessageType::kHeartbeat:
      // Any message counts as a sign of life; a heartbeat's ack also renews the lease.
      if (auto heartbeat = body(std::type_identity<msg::Heartbeat>{})) {
        if (!link_->acceptTerm(heartbeat->term)) break;
        if (auto round_trip = link_->onHeartbeat(*heartbeat)) {
          meter_->onLeaseRenewed(*round_trip);
        }
        shareLease();  // at once: the keeper must not act on an expiry this ack moved
      }
      break;
    case MessageType::kRejoin:
      if (!link_->awaitingWelcome()) {
        log_->info("the broker does not know this worker (it restarted?); sending ready again");
        reconnect();
        return;  // what else was read came over the old connection
      }
      break;
    case MessageType::kAssign:
      if (auto assign = body(std::type_identity<msg::Assign>{})) {
        if (!link_->acceptTerm(assign->term)) {
          reject(ErrorCode::kNotLeader,
                 "assignment from term " + std::to_string(assign->term) + " refused: term " +
                     std::to_string(link_->term()) + " is newer",
                 assign->id);
        } else if (shutting_down_) {
          reject(ErrorCode::kUnavailable, "worker is shutting down", assign->id);
        } else {
          table_->assign(*assign);
        }
      }
      break;
    case MessageType::kQuery:
      if (auto query = body(std::type_identity<msg::Query>{})) {
        if (shutting_down_) {
          reject(ErrorCode::kUnavailable, "worker is shutting down", query->id);
        } else {
          table_->query(*query);
        }
      }
      break;
    case MessageType::kCancel:
      if (auto cancel = body(std::type_identity<msg::Cancel>{})) table_->cancel(cancel->id);
      break;
    case MessageType::kSet:
      if (auto set = body(std::type_identity<msg::Set>{})) table_->set(*set);
      break;
    case MessageType::kContext:
      if (auto context = body(std::type_identity<msg::ContextRequest>{})) {
        table_->context(*context);
      }
      break;
    case MessageType::kBudget:
      if (auto budget = body(std::type_identity<msg::BudgetUpdate>{})) table_->budget(*budget);
      break;
    case MessageType::kPermissionReply:
      if (auto reply = body(std::type_identity<msg::PermissionReply>{})) {
        table_->permissionReply(*reply);
      }
      break;
    case MessageType::kTerminate:
      if (auto terminate = body(std::type_identity<msg::Terminate>{})) {
        table_->terminate(*terminate);
      }
      break;
    case MessageType::kRestart:
      if (auto restart = body(std::type_identity<msg::Restart>{})) {
        if (shutting_down_) {
          reject(ErrorCode::kUnavailable, "worker is shutting down", restart->id);
        } else {
          table_->restart(*restart);
        }
      }
      break;
    case MessageType::kError:
      // The broker refused something this worker sent (never answered: that could
      // ping-pong). `unauthorized` is about the worker itself: its key is not (or no longer)
      // allowed, or is allowed under another name than --id.
      if (auto error = body(std::type_identity<msg::ErrorReply>{})) {
        if (error->code == errorCodeName(ErrorCode::kNotLeader)) {
          // A standby: the leader it names gets this worker's `ready` at once.
          if (link_->redirect(error->leader)) {
            reconnect();
            return;  // what else was read came over the old connection
          }
          if (error->leader.empty()) {
            // A standby that knows no leader: it sends `rejoin` if it comes to lead, and
            // with other brokers to try, this worker tries them meanwhile.
            log_->debug("the broker at {} does not serve: {}", link_->endpoint(), error->message);
            link_->notServing();
          }
          break;
        }
        log_->error("the broker refused a message of this worker: {}: {}", error->code,
                    error->message);
        if (error->code != errorCodeName(ErrorCode::kUnauthorized)) break;
        if (link_->awaitingWelcome()) {
          refused_ = error->message;  // its `ready` was refused: it will never be taken
          return;
        }
        // A welcomed worker whose key was removed since: a fresh handshake says so for
        // certain (noteRefusedHandshake), and one that is still allowed simply rejoins.
        reconnect();
        return;  // what else was read came over the old connection
      }
      break;
    default:
      reject(ErrorCode::kBadRequest,
             "unexpected message type '" + std::string(messageTypeName(envelope->type)) +
                 "' from the broker",
             envelope->id);
      break;
  }
}

void Worker::reject(ErrorCode code, const std::string& message, uint64_t id) {
  if (code != ErrorCode::kUnavailable) {
    ++malformed_;
    if (malformed_ <= 10 || malformed_ % 1000 == 0) {
      log_->warn("bad message from the broker ({} so far): {}", malformed_, message);
    }
  }
  link_->send(MessageType::kError,
              msg::ErrorReply{id, std::string(errorCodeName(code)), message, {}, {}});
}

void Worker::handleSignals() {
  const SignalPipe::Signals signals = signals_->drain();
  if (signals.child_exited) table_->onChildExited();
  if (signals.stop_requests == 0) return;
  if (!shutting_down_) {
    beginShutdown();
    if (signals.stop_requests > 1) table_->killAll();
  } else {
    log_->warn("second stop signal: killing every CLI now");
    table_->killAll();
  }
}

void Worker::beginShutdown() {
  log_->info("stopping: stopping {} sessions gently", table_->reports().size());
  shutting_down_ = true;
  // Gentle stop (stop-grace), then SIGTERM, then SIGKILL 2 s later; a little slack after.
  shutdown_deadline_ = clock_.now() + config_.stop_grace + CliProcess::kTermGrace + Millis(500);
  table_->terminateAll("worker shutting down");
}

bool Worker::enforceLease() {
  if (table_->empty() || link_->lease().held(clock_.now())) return false;
  log_->warn(
      "lease lapsed: no acknowledgment from the broker covers the last {} ms; stopping every "
      "session (self-fencing) so that the broker can place them elsewhere",
      link_->lease().duration().count());
  table_->fenceAll();
  ++fences_;
  meter_->onLeaseLapsed();
  reconnect();  // a fresh `ready` tells the broker at once what this worker holds: nothing
  return true;
}

void Worker::reconnect() {
  // Never report sessions whose lease has just lapsed: fence first (enforceLease calls back
  // here with an empty table).
  if (!table_->empty() && !link_->lease().held(clock_.now())) {
    enforceLease();
    return;
  }
  link_->connect(withLoad(
      msg::Ready{config_.id, config_.capacity, config_.labels, table_->reports(), kVersion},
      *table_));
}

void Worker::setMeter(WorkerMeter& meter) {
  meter_ = &meter;
  context_.meter = &meter;
}

Worker::Readiness Worker::readiness() const {
  if (refused_) return {false, "the broker refuses this worker: " + *refused_};
  if (shutting_down_) return {false, "shutting down"};
  if (!link_->registered()) {
    return {false, "not registered: no welcome yet from the broker at " + link_->endpoint()};
  }
  if (!table_->empty() && !link_->lease().held(clock_.now())) {
    return {false, "the lease lapsed: no acknowledgment from the broker lately"};
  }
  return {true, ""};
}

Worker::Figures Worker::figures() {
  Figures figures;
  figures.id = config_.id;
  figures.broker = link_->endpoint();
  figures.capacity = config_.capacity;
  figures.max_live = config_.max_live;
  const msg::Load load = table_->load();
  figures.live = load.live;
  figures.hibernated = load.hibernated;
  for (const auto& [update, queued] : sessions()) {
    ++figures.states[update.state];
    figures.rss_bytes += update.rss_kb * 1024;
    figures.queued += queued;
  }
  figures.malformed = malformed_;
  figures.dropped = link_->dropped();
  figures.reconnects = link_->reconnects();
  figures.readiness = readiness();
  return figures;
}

std::vector<std::pair<msg::SessionUpdate, std::size_t>> Worker::sessions() {
  std::vector<std::pair<msg::SessionUpdate, std::size_t>> sessions;
  table_->forEach(
      [&](Session& session) { sessions.emplace_back(session.update(), session.queueDepth()); });
  return sessions;
}

void Worker::sayGoodbye() {
  table_->flushDeltas();
  link_->send(MessageType::kBye, msg::Bye{config_.id});
  const TimePoint until = clock_.now() + kGoodbyeWait;
  while (link_->wantsWrite() && clock_.now() < until) {
    zmq::pollitem_t item{link_->socket().handle(), 0, ZMQ_POLLOUT, 0};
    try {
      zmq::poll(&item, 1, Millis(50));
    } catch (const zmq::error_t&) {
    }
    link_->flush();
  }
}

}  // namespace ccmesh::worker
