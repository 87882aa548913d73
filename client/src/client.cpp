#include "ccmesh/client/client.hpp"

#include <algorithm>
#include <cerrno>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/socket_io.hpp"
#include "reply_decoding.hpp"

namespace ccmesh::client {
namespace {

// How often should_cancel is asked while a query waits.
constexpr Millis kCancelPollInterval{50};
// How long cancel() may wait for room in a full send queue.
constexpr Millis kCancelSendWait{1000};

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
    : options_(std::move(options)), context_(1), socket_(context_, zmq::socket_type::dealer) {
  applyCommonOptions(socket_);
  try {
    socket_.connect(options_.broker);
  } catch (const zmq::error_t& e) {
    throw ConfigError("bad broker endpoint '" + options_.broker + "': " + e.what());
  }
}

Client::~Client() = default;

Reply<msg::QueryResult> Client::query(const std::string& session, const std::string& prompt,
                                      const QueryOptions& options,
                                      const std::function<void(const msg::Event&)>& on_event) {
  const Millis timeout = options.timeout > Millis{0} ? options.timeout : options_.timeout;
  const Millis waited = timeout + options_.query_grace;
  const TimePoint deadline = now() + waited;
  const msg::Query request = makeQuery(next_id_++, session, prompt, options);
  if (auto error = sendRequest(MessageType::kQuery, encodeBody(request), deadline)) {
    return *error;
  }

  Waiting waiting;
  if (on_event) waiting.on_event = &on_event;
  if (options.should_cancel) waiting.should_cancel = &options.should_cancel;
  auto final_reply = awaitFinal(request.id, deadline, waiting);
  if (!final_reply) {
    // The broker's own timeout reply did not come: stop the request and forget it.
    if (!waiting.cancel_sent) cancel(request.id);
    abandoned_.insert(request.id);
    ReplyError error = localTimeout(waited);
    error.partial = std::move(waiting.partial);
    return error;
  }
  return decodeFinal<msg::QueryResult>(*final_reply);
}

Reply<msg::Ack> Client::start(const std::string& session, const SessionOptions& options) {
  msg::Start request{next_id_++, session, options};
  return unwrap<msg::Ack>(call(MessageType::kStart, request.id, encodeBody(request)));
}

Reply<msg::Ack> Client::terminate(const std::string& session) {
  msg::Terminate request;
  request.id = next_id_++;
  request.session = session;
  return unwrap<msg::Ack>(call(MessageType::kTerminate, request.id, encodeBody(request)));
}

Reply<msg::Ack> Client::restart(const std::string& session, bool keep_history) {
  msg::Restart request;
  request.id = next_id_++;
  request.session = session;
  request.keep_history = keep_history;
  return unwrap<msg::Ack>(call(MessageType::kRestart, request.id, encodeBody(request)));
}

Reply<msg::SessionInfo> Client::info(const std::string& session) {
  msg::Info request{next_id_++, session};
  auto reply = unwrap<msg::InfoResult>(call(MessageType::kInfo, request.id, encodeBody(request)));
  if (!reply.ok()) return reply.error();
  return std::move(reply.value().session);
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
  const Millis timeout = options.timeout > Millis{0} ? options.timeout : options_.timeout;
  const msg::Query request = makeQuery(next_id_++, session, prompt, options);
  if (auto error = sendRequest(MessageType::kQuery, encodeBody(request), now() + timeout)) {
    // The failure is this request's final reply; receive() hands it out like any other.
    Incoming incoming;
    incoming.type = MessageType::kError;
    incoming.id = request.id;
    incoming.error = std::move(*error);
    stashed_.push_back(std::move(incoming));
  }
  return request.id;
}

std::optional<Incoming> Client::receive(Millis wait) {
  const TimePoint deadline = now() + wait;
  while (true) {
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
    pollFor(ZMQ_POLLIN, remaining(deadline));
  }
}

void Client::cancel(uint64_t id) {
  // Best effort: a cancel that cannot be sent leaves the request to its own deadline.
  (void)sendRequest(MessageType::kCancel, encodeBody(msg::Cancel{id}), now() + kCancelSendWait);
}

Expected<Envelope, ReplyError> Client::call(MessageType type, uint64_t id,
                                            const msgpack::sbuffer& body) {
  const TimePoint deadline = now() + options_.timeout;
  if (auto error = sendRequest(type, body, deadline)) return *error;
  Waiting waiting;
  auto final_reply = awaitFinal(id, deadline, waiting);
  if (!final_reply) {
    abandoned_.insert(id);
    return localTimeout(options_.timeout);
  }
  if (!final_reply->ok()) return malformedReply(final_reply->error().error.message);
  return std::move(final_reply->value());
}

std::optional<ReplyError> Client::sendRequest(MessageType type, const msgpack::sbuffer& body,
                                              TimePoint deadline) {
  while (true) {
    try {
      if (sendMessage(socket_, {}, type, body) == SendStatus::kSent) return std::nullopt;
    } catch (const zmq::error_t& e) {
      return ReplyError{ErrorCode::kInternal, std::string(errorCodeName(ErrorCode::kInternal)),
                        "cannot send to broker at " + options_.broker + ": " + e.what(), ""};
    }
    if (now() >= deadline) {
      return ReplyError{ErrorCode::kTimeout, std::string(errorCodeName(ErrorCode::kTimeout)),
                        "cannot send to broker at " + options_.broker +
                            ": its queue stayed full until the deadline",
                        ""};
    }
    pollFor(ZMQ_POLLOUT, remaining(deadline));
  }
}

std::optional<Expected<Envelope, DecodeError>> Client::awaitFinal(uint64_t id, TimePoint deadline,
                                                                  Waiting& waiting) {
  while (true) {
    while (auto message = readOne()) {
      const uint64_t message_id = requestId(*message);
      const bool final_reply = isFinal(*message);
      // A final reply with no readable id answers something this client sent; while a call
      // waits, the call is the best owner for it (it would otherwise wait to its deadline).
      if (message_id != id && !(message_id == 0 && final_reply)) {
        stash(std::move(*message));
        continue;
      }
      if (final_reply) return std::move(*message);
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
    Millis wait = remaining(deadline);
    if (wait <= Millis{0}) return std::nullopt;
    if (watch_cancel) wait = std::min(wait, kCancelPollInterval);
    pollFor(ZMQ_POLLIN, wait);
  }
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
    if (isFinal(message)) abandoned_.erase(message_id);
    return;
  }
  stashed_.push_back(toIncoming(message));
}

void Client::pollFor(short events, Millis wait) {
  zmq::pollitem_t item{socket_.handle(), 0, events, 0};
  try {
    zmq::poll(&item, 1, wait);
  } catch (const zmq::error_t& e) {
    // EINTR: a signal (Ctrl-C) arrived; the caller looks at its cancel flag and polls again.
    if (e.num() != EINTR) return;
  }
}

ReplyError Client::localTimeout(Millis waited) const {
  return ReplyError{ErrorCode::kTimeout, std::string(errorCodeName(ErrorCode::kTimeout)),
                    "no reply from broker at " + options_.broker + " within " +
                        std::to_string(waited.count()) + " ms",
                    ""};
}

}  // namespace ccmesh::client
