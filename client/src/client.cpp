#include "ccmesh/client/client.hpp"

#include <algorithm>
#include <array>
#include <cerrno>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/endpoint_list.hpp"
#include "ccmesh/common/limits.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/socket_io.hpp"
#include "lost_request_check.hpp"
#include "reply_decoding.hpp"

namespace ccmesh::client {
namespace {

// How often should_cancel is asked while a query waits.
constexpr Millis kCancelPollInterval{50};
// How long cancel() may wait for room in a full send queue.
constexpr Millis kCancelSendWait{1000};
// not_leader replies one call follows before it gives up (leaders changing under it).
constexpr int kMaxRedirects = 8;
// How soon a request a standby refused while no leader serves is sent again.
constexpr Millis kElectionRetry{100};

TimePoint now() { return std::chrono::steady_clock::now(); }

// Time left until `deadline`, rounded up to whole milliseconds so a poll never spins.
Millis remaining(TimePoint deadline) {
  auto left = std::chrono::ceil<Millis>(deadline - now());
  return std::max(left, Millis{0});
}

// A query as sent: an explicit deadline travels as timeout_ms; without one, 0 lets the
// session's query_timeout_ms (or the worker's default) decide.
msg::Query makeQuery(uint64_t id, const std::string& session, const std::string& prompt,
                     const QueryOptions& options) {
  msg::Query query;
  query.id = id;
  query.session = session;
  query.prompt = prompt;
  query.stream = options.stream;
  query.timeout_ms =
      options.timeout > Millis{0} ? static_cast<uint64_t>(options.timeout.count()) : 0;
  return query;
}

template <class T>
Reply<T> unwrap(Expected<Envelope, ReplyError> reply) {
  if (!reply.ok()) return reply.error();
  return decodeFinal<T>(Expected<Envelope, DecodeError>(std::move(reply.value())));
}

}  // namespace

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      own_context_(options_.context == nullptr ? std::make_unique<zmq::context_t>(1) : nullptr),
      context_(options_.context != nullptr ? *options_.context : *own_context_),
      socket_(context_, zmq::socket_type::dealer),
      handshakes_(context_, socket_),
      brokers_(splitEndpoints(options_.broker)) {
  applyCommonOptions(socket_);
  if (brokers_.empty()) throw ConfigError("no broker endpoint given");
  // Every endpoint is checked now: a bad one must not wait for a failover to show.
  for (const auto& endpoint : brokers_) {
    if (endpoint.find("://") == std::string::npos) {
      throw ConfigError("bad broker endpoint '" + endpoint +
                        "': expected tcp://HOST:PORT, ipc://PATH or inproc://NAME");
    }
  }
  try {
    if (options_.curve) applyCurveClient(socket_, *options_.curve);
  } catch (const zmq::error_t& e) {
    throw ConfigError(std::string("bad CURVE keys: ") + e.what());
  }
  connectTo(brokers_.front());
}

void Client::connectTo(const std::string& endpoint) {
  // What was seen of that broker before is not about this connection.
  handshakes_.drain();
  handshakes_.forget(endpoint);
  try {
    if (!endpoint_.empty()) socket_.disconnect(endpoint_);
  } catch (const zmq::error_t&) {
    // Not connected to it any more: nothing to leave.
  }
  try {
    socket_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw ConfigError("bad broker endpoint '" + endpoint + "': " + e.what());
  }
  endpoint_ = endpoint;
}

bool Client::tryNextBroker() {
  if (brokers_.size() < 2) return false;
  auto at = std::find(brokers_.begin(), brokers_.end(), endpoint_);
  const std::size_t next = at == brokers_.end() ? 0 : (at - brokers_.begin() + 1) % brokers_.size();
  connectTo(brokers_[next]);
  return true;
}

bool Client::electionUnderWay(const Expected<Envelope, DecodeError>& message) const {
  if (!message.ok() || message.value().type != MessageType::kError) return false;
  auto error = decodeBody<msg::ErrorReply>(message.value());
  if (!error.ok() || error.value().code != errorCodeName(ErrorCode::kNotLeader)) return false;
  auto dead = lost_brokers_.find(error.value().leader);
  return dead != lost_brokers_.end() && now() - dead->second < options_.broker_check;
}

bool Client::followLeader(const Expected<Envelope, DecodeError>& message) {
  if (!message.ok() || message.value().type != MessageType::kError) return false;
  auto error = decodeBody<msg::ErrorReply>(message.value());
  if (!error.ok() || error.value().code != errorCodeName(ErrorCode::kNotLeader)) return false;
  // A standby that knows no leader (none elected, or it cannot reach etcd): another broker
  // of the list may serve.
  // A standby refuses everything: what else was sent there goes where this goes.
  const std::string standby = endpoint_;
  if (error.value().leader.empty()) {
    if (!tryNextBroker()) return false;
    settleAsyncSentTo(standby, /*did_nothing=*/true);
    return true;
  }
  if (error.value().leader == endpoint_) return false;
  // A standby that still names the leader this client just found dead: the next leader is
  // not elected yet; ask the standby again later rather than go back to the dead one.
  auto dead = lost_brokers_.find(error.value().leader);
  if (dead != lost_brokers_.end() && now() - dead->second < options_.broker_check) return false;
  try {
    connectTo(error.value().leader);
  } catch (const ConfigError&) {
    return false;  // an endpoint this client cannot use: the caller gets not_leader
  }
  settleAsyncSentTo(standby, /*did_nothing=*/true);
  return true;
}

Client::~Client() = default;

Reply<msg::QueryResult> Client::query(const std::string& session, const std::string& prompt,
                                      const QueryOptions& options,
                                      const std::function<void(const msg::Event&)>& on_event) {
  const msg::Query request = makeQuery(next_id_++, session, prompt, options);
  return runQuery(MessageType::kQuery, request.id, encodeBody(request), options, on_event);
}

Reply<msg::QueryResult> Client::runQuery(MessageType type, uint64_t id,
                                         const msgpack::sbuffer& body, const QueryOptions& options,
                                         const std::function<void(const msg::Event&)>& on_event) {
  const Millis timeout = options.timeout > Millis{0} ? options.timeout : options_.timeout;
  const Millis waited = timeout + options_.query_grace;
  const TimePoint deadline = now() + waited;
  if (auto error = sendRequest(type, body, deadline)) return *error;

  Waiting waiting;
  if (on_event) waiting.on_event = &on_event;
  if (options.should_cancel) waiting.should_cancel = &options.should_cancel;
  waiting.on_permission = &options.on_permission;
  waiting.body = &body;
  waiting.type = type;
  // A query (of a session or a pool) the broker lost would otherwise wait out its deadline.
  LostRequestCheck check(id, options_.broker_check, now());
  waiting.check = &check;
  auto final_reply = awaitFinal(id, deadline, waiting);
  if (!final_reply) {
    // The broker's own timeout reply did not come: stop the request and forget it.
    if (!waiting.cancel_sent) cancel(id);
    abandoned_.insert(id);
    ReplyError error = noReply(waited);
    error.partial = std::move(waiting.partial);
    return error;
  }
  return decodeFinal<msg::QueryResult>(*final_reply);
}

Reply<msg::Ack> Client::start(const std::string& session, const SessionOptions& options) {
  return fork({}, session, options);
}

Reply<msg::Ack> Client::fork(const std::string& source, const std::string& session,
                             const SessionOptions& options) {
  msg::Start request{next_id_++, session, options, source};
  return unwrap<msg::Ack>(call(MessageType::kStart, request.id, encodeBody(request)));
}

Reply<msg::Ack> Client::terminate(const std::string& session) {
  msg::Terminate request;
  request.id = next_id_++;
  request.session = session;
  return unwrap<msg::Ack>(call(MessageType::kTerminate, request.id, encodeBody(request)));
}

Reply<msg::Ack> Client::restart(const std::string& session, bool keep_history, bool from_cut) {
  msg::Restart request;
  request.id = next_id_++;
  request.session = session;
  request.keep_history = keep_history;
  request.from_cut = from_cut;
  return unwrap<msg::Ack>(call(MessageType::kRestart, request.id, encodeBody(request)));
}

Reply<msg::Ack> Client::set(const std::string& session, const std::string& model,
                            const std::string& permission_mode) {
  msg::Set request{next_id_++, session, model, permission_mode, 0};
  return unwrap<msg::Ack>(call(MessageType::kSet, request.id, encodeBody(request)));
}

Reply<msg::ContextResult> Client::context(const std::string& session) {
  msg::ContextRequest request{next_id_++, session, 0};
  return unwrap<msg::ContextResult>(call(MessageType::kContext, request.id, encodeBody(request)));
}

Reply<msg::UsageResult> Client::usage(const std::string& by) {
  msg::UsageRequest request{next_id_++, by};
  return unwrap<msg::UsageResult>(call(MessageType::kUsage, request.id, encodeBody(request)));
}

Reply<msg::BudgetResult> Client::budget(const std::string& name, double add_usd, double set_usd,
                                        bool reset) {
  msg::BudgetRequest request{next_id_++, name, add_usd, set_usd, reset};
  return unwrap<msg::BudgetResult>(call(MessageType::kBudget, request.id, encodeBody(request)));
}

Reply<msg::SessionInfo> Client::info(const std::string& session) {
  msg::Info request{next_id_++, session};
  auto reply = unwrap<msg::InfoResult>(call(MessageType::kInfo, request.id, encodeBody(request)));
  if (!reply.ok()) return reply.error();
  return std::move(reply.value().session);
}

Reply<msg::Ack> Client::move(const std::string& session, const std::string& worker) {
  msg::Move request{next_id_++, session, worker};
  return unwrap<msg::Ack>(call(MessageType::kMove, request.id, encodeBody(request)));
}

Reply<msg::TranscriptResult> Client::transcript(const std::string& session) {
  msg::TranscriptRequest request{next_id_++, session};
  return unwrap<msg::TranscriptResult>(
      call(MessageType::kTranscript, request.id, encodeBody(request)));
}

Reply<std::vector<msg::SessionInfo>> Client::list() {
  msg::Plain request{next_id_++};
  auto reply = unwrap<msg::ListResult>(call(MessageType::kList, request.id, encodeBody(request)));
  if (!reply.ok()) return reply.error();
  return std::move(reply.value().sessions);
}

Reply<msg::CountResult> Client::count() {
  msg::Plain request{next_id_++};
  return unwrap<msg::CountResult>(call(MessageType::kCount, request.id, encodeBody(request)));
}

Reply<msg::StatusResult> Client::status() {
  msg::Plain request{next_id_++};
  return unwrap<msg::StatusResult>(call(MessageType::kStatus, request.id, encodeBody(request)));
}

Reply<msg::PingResult> Client::ping() {
  msg::Plain request{next_id_++};
  return unwrap<msg::PingResult>(call(MessageType::kPing, request.id, encodeBody(request)));
}

uint64_t Client::sendQuery(const std::string& session, const std::string& prompt,
                           const QueryOptions& options) {
  const msg::Query request = makeQuery(next_id_++, session, prompt, options);
  return sendAsync(MessageType::kQuery, request.id, encodeBody(request), options);
}

uint64_t Client::sendAsync(MessageType type, uint64_t id, const msgpack::sbuffer& body,
                           const QueryOptions& options) {
  const Millis timeout = options.timeout > Millis{0} ? options.timeout : options_.timeout;
  if (auto error = sendRequest(type, body, now() + timeout)) {
    // The failure is this request's final reply; receive() hands it out like any other.
    Incoming incoming;
    incoming.type = MessageType::kError;
    incoming.id = id;
    incoming.error = std::move(*error);
    stashed_.push_back(std::move(incoming));
    return id;
  }
  // Kept until its final reply, to follow a leader change (high availability).
  if (brokers_.size() > 1) {
    auto& kept = async_[id];
    kept.type = type;
    kept.body.write(body.data(), body.size());
    kept.sent_to = endpoint_;
  }
  return id;
}

std::optional<Incoming> Client::receive(Millis wait) {
  const TimePoint deadline = now() + wait;
  while (true) {
    superviseAsync();
    while (stashed_.empty()) {
      auto message = readOne();
      if (!message) break;
      stash(std::move(*message));
    }
    if (!stashed_.empty()) {
      Incoming incoming = std::move(stashed_.front());
      stashed_.pop_front();
      return incoming;
    }
    if (now() >= deadline) return std::nullopt;
    Millis left = remaining(deadline);
    for (const auto& [id, request] : async_) {
      if (request.retry_at) left = std::min(left, kElectionRetry);
    }
    pollFor(ZMQ_POLLIN, left);
  }
}

void Client::resendAsync(AsyncRequest& request) {
  request.retry_at.reset();
  request.sent_to = endpoint_;
  (void)sendRequest(request.type, request.body, now() + kCancelSendWait);
}

void Client::superviseAsync() {
  if (async_.empty()) return;
  handshakes_.drain();
  for (auto& [id, request] : async_) {
    if (request.retry_at && now() >= *request.retry_at) resendAsync(request);
  }
  (void)moveOnFromLostBroker();
}

std::optional<bool> Client::moveOnFromLostBroker() {
  if (brokers_.size() < 2 || !handshakes_.reachOf(endpoint_).lost) return std::nullopt;
  const std::string gone = endpoint_;
  const bool reached = handshakes_.reachOf(gone).reached;
  lost_brokers_[gone] = now();
  (void)tryNextBroker();
  // What was sent there: sent again if it never got there, else its fate is unknown.
  settleAsyncSentTo(gone, /*did_nothing=*/!reached);
  return reached;
}

void Client::settleAsyncSentTo(const std::string& left, bool did_nothing) {
  // Their replies, if any, would come over the connection just left: they never will.
  for (auto it = async_.begin(); it != async_.end();) {
    if (it->second.sent_to != left) {
      ++it;
    } else if (did_nothing) {
      resendAsync(it->second);
      ++it;
    } else {
      Incoming lost;
      lost.type = MessageType::kError;
      lost.id = it->first;
      lost.error =
          ReplyError{ErrorCode::kUnavailable, std::string(errorCodeName(ErrorCode::kUnavailable)),
                     "this client left the broker at " + left +
                         " (its connection was lost, or it fell silent) with this "
                         "request in flight; it may or may not have run",
                     ""};
      stashed_.push_back(std::move(lost));
      it = async_.erase(it);
    }
  }
}

void Client::answerPermission(uint64_t id, const std::string& request,
                              const PermissionAnswer& answer) {
  msg::PermissionReply reply{id, request, std::string(answer.allow ? msg::kAllow : msg::kDeny),
                             answer.allow ? answer.updated_input : std::string(),
                             answer.allow ? std::string() : answer.message};
  // Best effort, as a cancel: an answer that cannot be sent is denied at the worker's timeout.
  (void)sendRequest(MessageType::kPermissionReply, encodeBody(reply), now() + kCancelSendWait);
}

void Client::answerQuestion(uint64_t id, const Envelope& message,
                            const PermissionHandler* on_permission) {
  auto question = decodeBody<msg::PermissionRequest>(message);
  if (!question.ok()) return;  // unanswerable: the worker denies it at its timeout
  question.value().id = id;
  const PermissionAnswer answer =
      on_permission != nullptr && *on_permission
          ? (*on_permission)(question.value())
          : PermissionAnswer::denied("this client answers no tool questions");
  answerPermission(id, question.value().request, answer);
}

void Client::cancel(uint64_t id) {
  // Best effort: a cancel that cannot be sent leaves the request to its own deadline.
  (void)sendRequest(MessageType::kCancel, encodeBody(msg::Cancel{id}), now() + kCancelSendWait);
}

Expected<Envelope, ReplyError> Client::call(MessageType type, uint64_t id,
                                            const msgpack::sbuffer& body, Millis wait,
                                            const std::function<bool()>* should_cancel) {
  if (wait <= Millis{0}) wait = options_.timeout;
  const TimePoint deadline = now() + wait;
  if (auto error = sendRequest(type, body, deadline)) return *error;
  Waiting waiting;
  if (should_cancel != nullptr && *should_cancel) waiting.should_cancel = should_cancel;
  waiting.body = &body;
  waiting.type = type;
  // Requests the broker forwards to a worker: it tracks them until they end.
  // (A waiting pool checkout too: ping knows it.)
  const bool tracked = type == MessageType::kStart || type == MessageType::kTerminate ||
                       type == MessageType::kRestart || type == MessageType::kMove ||
                       type == MessageType::kSet || type == MessageType::kContext ||
                       type == MessageType::kPoolCheckout;
  // Requests that only read the broker's state: answered at once, safe to send twice.
  const bool read_only = isReadOnly(type);
  LostRequestCheck check(id, tracked || read_only ? options_.broker_check : Millis{0}, now());
  waiting.check = &check;
  if (read_only) {
    waiting.resend = &body;
    waiting.resend_type = type;
    waiting.resend_interval = options_.broker_check;
  }
  auto final_reply = awaitFinal(id, deadline, waiting);
  if (!final_reply) {
    abandoned_.insert(id);
    return noReply(wait);
  }
  // Sent more than once: a second answer may still come, and is not for anyone.
  if (read_only && waiting.resend_interval > options_.broker_check) abandoned_.insert(id);
  if (!final_reply->ok()) return malformedReply(final_reply->error().error.message);
  return std::move(final_reply->value());
}

ReplyError Client::watch(const std::string& session, const std::string& pool,
                         const std::function<void(const msg::FeedEvent&)>& on_event,
                         const std::function<bool()>& should_stop) {
  const msg::Watch request{next_id_++, session, pool};
  // A watch has no deadline: it runs until stopped, cut off, or its broker is lost.
  const TimePoint deadline = now() + std::chrono::hours(24 * 365);
  const auto watch_body = encodeBody(request);
  if (auto error = sendRequest(MessageType::kWatch, watch_body, deadline)) return *error;
  Waiting waiting;
  waiting.on_feed_event = &on_event;
  waiting.body = &watch_body;
  waiting.type = MessageType::kWatch;
  if (should_stop) waiting.should_cancel = &should_stop;
  LostRequestCheck check(request.id, options_.broker_check, now());
  waiting.check = &check;
  auto final_reply = awaitFinal(request.id, deadline, waiting);
  if (!final_reply) return noReply(Millis{0});
  if (!final_reply->ok()) return malformedReply(final_reply->error().error.message);
  auto ended = decodeFinal<msg::Ack>(*final_reply);
  if (ended.ok()) {
    return ReplyError{ErrorCode::kInternal, std::string(errorCodeName(ErrorCode::kInternal)),
                      "the broker ended the watch with a result", ""};
  }
  return ended.error();
}

std::optional<ReplyError> Client::sendRequest(MessageType type, const msgpack::sbuffer& body,
                                              TimePoint deadline) {
  // The broker's socket drops a connection that sends a message past its size limit,
  // without a word: the call would wait out its deadline. Refuse it here instead.
  if (body.size() > limits::kMaxBodyBytes) {
    return ReplyError{ErrorCode::kBadRequest, std::string(errorCodeName(ErrorCode::kBadRequest)),
                      std::string(messageTypeName(type)) + " request is " +
                          std::to_string(body.size()) + " bytes; the broker takes at most " +
                          std::to_string(limits::kMaxBodyBytes) + " bytes per message",
                      ""};
  }
  while (true) {
    try {
      if (sendMessage(socket_, {}, type, body) == SendStatus::kSent) return std::nullopt;
    } catch (const zmq::error_t& e) {
      return ReplyError{ErrorCode::kInternal, std::string(errorCodeName(ErrorCode::kInternal)),
                        "cannot send to broker at " + endpoint_ + ": " + e.what(), ""};
    }
    handshakes_.drain();
    if (handshakes_.failure()) return noReply(Millis{0});
    if (now() >= deadline) {
      return ReplyError{
          ErrorCode::kTimeout, std::string(errorCodeName(ErrorCode::kTimeout)),
          "cannot send to broker at " + endpoint_ + ": its queue stayed full until the deadline",
          ""};
    }
    pollFor(ZMQ_POLLOUT, remaining(deadline));
  }
}

std::optional<Expected<Envelope, DecodeError>> Client::awaitFinal(uint64_t id, TimePoint deadline,
                                                                  Waiting& waiting) {
  while (true) {
    // A refused handshake is final: nothing this request sent will get through.
    handshakes_.drain();
    if (handshakes_.failure()) return std::nullopt;
    while (auto message = readOne()) {
      const uint64_t message_id = requestId(*message);
      if (waiting.check != nullptr) {
        waiting.check->heard(now());
        if (message_id != 0 && message_id == waiting.check->outstanding()) {
          abandoned_.erase(message_id);
          const bool lost = waiting.check->lost(*message);
          if (!lost && followLeader(*message)) {
            // A standby answered the check: ask the leader it names instead.
            waiting.check->abandon(now());
            sendCheck(id, *waiting.check);
            continue;
          }
          if (!lost) continue;
          return LostRequestCheck::lostReply(id, endpoint_, waiting.partial);
        }
      }
      const bool final_reply = isFinal(*message);
      // A final reply with no readable id answers something this client sent; while a call
      // waits, the call is the best owner for it (it would otherwise wait to its deadline).
      if (message_id != id && !(message_id == 0 && final_reply)) {
        stash(std::move(*message));
        continue;
      }
      if (final_reply && waiting.body != nullptr && waiting.redirects < kMaxRedirects &&
          followLeader(*message)) {
        // A standby did nothing with it: the leader gets it now, under the same id.
        ++waiting.redirects;
        (void)sendRequest(waiting.type, *waiting.body, now() + kCancelSendWait);
        continue;
      }
      if (final_reply && waiting.body != nullptr && electionUnderWay(*message)) {
        // A standby did nothing with it and no leader serves yet: ask again shortly.
        waiting.retry_at = now() + kElectionRetry;
        continue;
      }
      if (final_reply) {
        // Another request of this id is in flight: its final reply is for nobody.
        if (isDuplicateIdRefusal(*message)) abandoned_.insert(id);
        return std::move(*message);
      }
      if (waiting.on_feed_event) {
        auto batch = decodeBody<msg::FeedBatch>(message->value());
        if (!batch.ok()) continue;
        for (auto& shown : batch.value().events) {
          shown.id = id;
          (*waiting.on_feed_event)(shown);
        }
        continue;
      }
      if (message->value().type == MessageType::kPermissionRequest) {
        answerQuestion(id, message->value(), waiting.on_permission);
        continue;
      }
      auto event = decodeBody<msg::Event>(message->value());
      if (!event.ok()) continue;  // a broken event: the final reply still carries the text
      if (event.value().kind == "delta") waiting.partial += event.value().text;
      if (waiting.on_event) (*waiting.on_event)(event.value());
    }
    const bool watch_cancel = waiting.should_cancel != nullptr && !waiting.cancel_sent;
    if (watch_cancel && (*waiting.should_cancel)()) {
      cancel(id);
      waiting.cancel_sent = true;
    }
    if (waiting.retry_at && now() >= *waiting.retry_at) {
      waiting.retry_at.reset();
      (void)sendRequest(waiting.type, *waiting.body, now() + kCancelSendWait);
    }
    const std::optional<bool> reached =
        waiting.check != nullptr ? moveOnFromLostBroker() : std::nullopt;
    if (reached) {
      // The connection to this broker failed or closed: the next one, at once.
      waiting.check->abandon(now());
      if (!*reached && waiting.body != nullptr) {
        // Nothing this call sent ever reached that broker: the request goes to the next.
        (void)sendRequest(waiting.type, *waiting.body, now() + kCancelSendWait);
      } else if (waiting.resend != nullptr) {
        (void)sendRequest(waiting.resend_type, *waiting.resend, now() + kCancelSendWait);
      } else {
        sendCheck(id, *waiting.check);
      }
    }
    const std::string silent = endpoint_;
    if (waiting.check != nullptr && waiting.check->unanswered(now()) && tryNextBroker()) {
      settleAsyncSentTo(silent, /*did_nothing=*/false);
      // The broker is silent: ask the next one whether it knows the request (a new leader
      // does not, and the call ends unavailable at once; a standby names the leader).
      waiting.check->abandon(now());
      sendCheck(id, *waiting.check);
    }
    if (waiting.check != nullptr && waiting.check->due(now())) {
      if (waiting.resend != nullptr) {
        // With several brokers, silence means this one is down: the next one gets it.
        const std::string silent_one = endpoint_;
        if (tryNextBroker()) settleAsyncSentTo(silent_one, /*did_nothing=*/false);
        // A restarted broker never saw it; a broker merely slow answers twice (the second
        // answer is dropped). Waits double, so a slow broker is not flooded.
        (void)sendRequest(waiting.resend_type, *waiting.resend, now() + kCancelSendWait);
        waiting.check->heard(now() + waiting.resend_interval - options_.broker_check);
        waiting.resend_interval *= 2;
      } else {
        sendCheck(id, *waiting.check);
      }
    }
    Millis wait = remaining(deadline);
    if (wait <= Millis{0}) return std::nullopt;
    if (watch_cancel) wait = std::min(wait, kCancelPollInterval);
    if (waiting.retry_at) {
      wait = std::min(wait, std::chrono::ceil<Millis>(*waiting.retry_at - now()));
    }
    if (waiting.check != nullptr) {
      wait = std::min(wait, waiting.check->untilDue(now()));
      if (brokers_.size() > 1) wait = std::min(wait, waiting.check->untilUnanswered(now()));
    }
    pollFor(ZMQ_POLLIN, wait);
  }
}

void Client::sendCheck(uint64_t id, LostRequestCheck& check) {
  const uint64_t ping_id = next_id_++;
  // The check's answer may come after the call has ended: it is dropped then.
  abandoned_.insert(ping_id);
  if (sendRequest(MessageType::kPing, encodeBody(msg::Ping{ping_id, {id}}),
                  now() + kCancelSendWait)) {
    abandoned_.erase(ping_id);
    return;  // could not send: try again at the next pass
  }
  check.sent(ping_id, now());
}

std::optional<Expected<Envelope, DecodeError>> Client::readOne() {
  std::vector<zmq::message_t> frames;
  bool oversized = false;
  try {
    if (!receiveMessage(socket_, frames, oversized)) return std::nullopt;
  } catch (const zmq::error_t&) {
    return std::nullopt;
  }
  if (oversized) {
    return Expected<Envelope, DecodeError>(
        DecodeError{{ErrorCode::kBadRequest, "too many frames"}, 0});
  }
  return decodeFrames(frames);
}

void Client::stash(Expected<Envelope, DecodeError> message) {
  const uint64_t message_id = requestId(message);
  if (abandoned_.count(message_id) != 0) {
    if (isFinal(message) && !isDuplicateIdRefusal(message)) abandoned_.erase(message_id);
    return;
  }
  auto async = async_.find(message_id);
  if (async != async_.end() && isFinal(message)) {
    // A standby did nothing with it: to the leader it names, or again once one is elected.
    if (async->second.redirects < kMaxRedirects && followLeader(message)) {
      ++async->second.redirects;
      resendAsync(async->second);
      return;
    }
    if (electionUnderWay(message)) {
      async->second.retry_at = now() + kElectionRetry;
      return;
    }
    async_.erase(async);
  }
  stashed_.push_back(toIncoming(message));
}

void Client::pollFor(short events, Millis wait) {
  std::array<zmq::pollitem_t, 2> items{
      {{socket_.handle(), 0, events, 0}, {handshakes_.socket().handle(), 0, ZMQ_POLLIN, 0}}};
  try {
    zmq::poll(items.data(), items.size(), wait);
  } catch (const zmq::error_t& e) {
    // EINTR: a signal (Ctrl-C) arrived; the caller looks at its cancel flag and polls again.
    if (e.num() != EINTR) return;
  }
}

ReplyError Client::noReply(Millis waited) {
  handshakes_.drain();
  if (const auto& failure = handshakes_.failure()) {
    return ReplyError{ErrorCode::kUnauthorized,
                      std::string(errorCodeName(ErrorCode::kUnauthorized)),
                      "broker at " + endpoint_ + ": " + *failure, ""};
  }
  return localTimeout(waited);
}

ReplyError Client::localTimeout(Millis waited) const {
  return ReplyError{
      ErrorCode::kTimeout, std::string(errorCodeName(ErrorCode::kTimeout)),
      "no reply from broker at " + endpoint_ + " within " + std::to_string(waited.count()) + " ms",
      ""};
}

}  // namespace ccmesh::client
