#include "handlers/worker_message_handler.hpp"

#include <algorithm>

#include "ccmesh/common/limits.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "peer_name.hpp"

namespace ccmesh::broker {
namespace {

// A conversation id fit for a file name and a file header: 1..128 of [A-Za-z0-9._-].
bool plainSessionId(const std::string& id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// One JSONL line holding a JSON object, within the entry bound (the broker does not parse
// entries; the worker checked them, this guards the files and the bound).
bool plausibleEntry(const std::string& entry) {
  return entry.size() >= 2 && entry.size() <= msg::TranscriptAppend::kMaxEntryBytes &&
         entry.front() == '{' && entry.back() == '}' &&
         entry.find_first_of("\r\n") == std::string::npos;
}

// Decodes a worker message body into `T`, or answers it as malformed.
template <class T>
std::optional<T> decoded(const Envelope& envelope, auto&& reject) {
  auto body = decodeBody<T>(envelope);
  if (!body) {
    reject(body.error().error);
    return std::nullopt;
  }
  return std::move(*body);
}

}  // namespace

WorkerMessageHandler::WorkerMessageHandler(BrokerCore& core, RateLimitedLog& warnings)
    : core_(core), warnings_(warnings) {}

void WorkerMessageHandler::handle(const std::string& routing_id, const Envelope& envelope,
                                  const std::string& key_name) {
  if (envelope.type == MessageType::kReady) return onReady(routing_id, envelope, key_name);
  const auto* worker = core_.workers().findByRoutingId(routing_id);
  // A connection that took over a registered worker's routing id (ROUTER handover) with
  // another key must not act for that worker.
  if (worker && !key_name.empty() && worker->id != key_name) {
    const bool answer = envelope.type != MessageType::kError && envelope.type != MessageType::kBye;
    return refuseWorkerId(routing_id, worker->id, key_name, answer);
  }
  if (!worker) {
    // A worker the broker declared dead, or one that outlived a broker restart: it must
    // send `ready` again, with the sessions it still holds. (Never answer an error or a
    // bye: that could ping-pong.)
    core_.refused(event::Refusal::kStale, peerName(routing_id));
    warnings_.warn("[peer {}] '{}' from an unregistered worker ignored; asked it to rejoin",
                   peerName(routing_id), messageTypeName(envelope.type));
    if (envelope.type != MessageType::kError && envelope.type != MessageType::kBye) {
      core_.replyToWorker(routing_id, MessageType::kRejoin,
                          encodeBody(msg::Rejoin{"this broker does not know you"}));
    }
    return;
  }
  const std::string id = worker->id;  // the verbs below may drop the entry
  core_.heardFrom(id);
  auto reject = [&](const Error& error) { rejectMalformed(routing_id, envelope.id, error); };
  switch (envelope.type) {
    case MessageType::kLoad:
      if (auto load = decoded<msg::Load>(envelope, reject)) core_.loadFrom(id, *load);
      return;
    case MessageType::kHeartbeat:
      if (auto beat = decoded<msg::Heartbeat>(envelope, reject)) core_.heartbeatFrom(id, beat->seq);
      return;
    case MessageType::kSessionUpdate:
      if (auto update = decoded<msg::SessionUpdate>(envelope, reject)) {
        core_.sessionUpdate(id, *update);
      }
      return;
    case MessageType::kDelivered:
      if (auto delivered = decoded<msg::Delivered>(envelope, reject)) {
        core_.markDelivered(id, delivered->id);
      }
      return;
    case MessageType::kTranscriptAppend:
      if (auto batch = decoded<msg::TranscriptAppend>(envelope, reject)) {
        onTranscriptAppend(id, std::move(*batch));
      }
      return;
    case MessageType::kTranscriptFetch:
      if (auto fetch = decoded<msg::TranscriptFetch>(envelope, reject)) {
        core_.fetchTranscript(id, *fetch);
      }
      return;
    case MessageType::kEvent:
      if (auto event = decoded<msg::Event>(envelope, reject))
        core_.relayEvent(id, envelope, *event);
      return;
    case MessageType::kPermissionRequest:
      if (auto question = decoded<msg::PermissionRequest>(envelope, reject)) {
        core_.relayPermissionRequest(id, envelope, *question);
      }
      return;
    case MessageType::kPermissionDecision:
      if (auto decision = decoded<msg::PermissionDecision>(envelope, reject)) {
        core_.notePermissionDecision(id, *decision);
      }
      return;
    case MessageType::kResult:
      return core_.settleResult(id, envelope);
    case MessageType::kError:
      if (auto error = decoded<msg::ErrorReply>(envelope, reject)) {
        if (error->id == 0) {
          warnings_.warn("[worker {}] reported error {}: {}", id, error->code, error->message);
          return;
        }
        core_.settleError(id, envelope, *error);
      }
      return;
    case MessageType::kBye:
      core_.log().info("[worker {}] said bye", id);
      return core_.workerLost(id, event::LossCause::kBye, "said bye");
    default:
      return reject({ErrorCode::kBadRequest, "'" + std::string(messageTypeName(envelope.type)) +
                                                 "' is not a message a worker may send"});
  }
}

bool WorkerMessageHandler::handleInPlace(const std::string& routing_id,
                                         std::span<const zmq::message_t> frames,
                                         const std::string& key_name) {
  if (frames.size() != 3 || frames[0].to_string_view() != kProtocolTag) return false;
  const std::string_view type = frames[1].to_string_view();
  const std::string_view body = frames[2].to_string_view();
  const auto* worker = core_.workers().findByRoutingId(routing_id);
  if (worker == nullptr || (!key_name.empty() && worker->id != key_name)) return false;
  if (type == messageTypeName(MessageType::kEvent)) {
    BodyFields& event = event_fields_;
    // Each field must have the type decodeBody<msg::Event> converts.
    if (!event.read(body) || !event.id() || !event.unsignedField(0) || !event.stringField(1) ||
        !event.stringField(2)) {
      return false;
    }
    const std::string& id = worker_id_.assign(worker->id);  // the verbs may drop the entry
    core_.heardFrom(id);
    core_.relayEvent(id, event);
    return true;
  }
  if (type == messageTypeName(MessageType::kDelivered)) {
    BodyFields& delivered = delivered_fields_;
    if (!delivered.read(body) || !delivered.id()) return false;
    const std::string& id = worker_id_.assign(worker->id);
    core_.heardFrom(id);
    core_.markDelivered(id, *delivered.id());
    return true;
  }
  if (type == messageTypeName(MessageType::kHeartbeat)) {
    BodyFields& beat = heartbeat_fields_;
    if (!beat.read(body) || !beat.unsignedField(0) || !beat.unsignedField(1) ||
        !beat.unsignedField(2)) {
      return false;
    }
    const std::string& id = worker_id_.assign(worker->id);
    core_.heardFrom(id);
    core_.heartbeatFrom(id, *beat.unsignedField(0));
    return true;
  }
  if (type == messageTypeName(MessageType::kResult)) {
    BodyFields& result = result_fields_;
    // The figures must be what the decoded path reads: anything else takes that path.
    if (!result.read(body) || !result.id() || !result.numberField(0) || !result.unsignedField(1) ||
        !result.unsignedField(2)) {
      return false;
    }
    const std::string& id = worker_id_.assign(worker->id);
    core_.heardFrom(id);
    return core_.settleResult(id, result);  // false: not a query's result, decoded instead
  }
  return false;
}

void WorkerMessageHandler::onReady(const std::string& routing_id, const Envelope& envelope,
                                   const std::string& key_name) {
  auto ready = decodeBody<msg::Ready>(envelope);
  if (!ready) return rejectMalformed(routing_id, 0, ready.error().error);
  const std::string id = ready->worker.empty() ? peerName(routing_id) : ready->worker;
  if (id.size() > limits::kMaxSessionNameBytes) {
    return rejectMalformed(routing_id, 0, {ErrorCode::kBadRequest, "worker id too long"});
  }
  // With CURVE a worker is who its key says: otherwise one worker key could register under
  // another worker's id and take its sessions over.
  if (!key_name.empty() && id != key_name) return refuseWorkerId(routing_id, id, key_name, true);
  // Reports with an invalid session name are left out (and counted); the others go in.
  const auto invalid = std::erase_if(ready->sessions, [](const msg::SessionReport& report) {
    return validateSessionName(report.update.session).has_value();
  });
  for (std::size_t i = 0; i < invalid; ++i) {
    core_.refused(event::Refusal::kMalformed, id);
    warnings_.warn("[worker {}] reported an invalid session name; ignored", id);
  }
  core_.workerJoined(routing_id, id, *ready);
}

void WorkerMessageHandler::onTranscriptAppend(const std::string& worker_id,
                                              msg::TranscriptAppend batch) {
  // A batch is stored whole or not at all: dropping some entries would shift every later
  // position. A refused batch is not acknowledged (the copy stays incomplete, and says so).
  const char* refused = nullptr;
  if (!plainSessionId(batch.session_id)) {
    refused = "an unusable session_id";
  } else if (std::any_of(batch.entries.begin(), batch.entries.end(),
                         [](const std::string& entry) { return !plausibleEntry(entry); })) {
    refused = "malformed entries";
  }
  if (refused == nullptr) return core_.appendTranscript(worker_id, std::move(batch));
  warnings_.warn("[worker {}] a transcript batch for [session {}] with {} refused", worker_id,
                 batch.session, refused);
  core_.refuseTranscript(worker_id, batch, refused);
}

void WorkerMessageHandler::refuseWorkerId(const std::string& routing_id, const std::string& id,
                                          const std::string& key_name, bool answer) {
  core_.refused(event::Refusal::kWorkerIdRefused, peerName(routing_id));
  warnings_.warn("[peer {}] refused: key '{}' may only act as worker '{}', not as '{}'",
                 peerName(routing_id), key_name, key_name, id);
  // Not a `rejoin` (that would only make it try again), and nothing about the real worker
  // `id` changes.
  if (!answer) return;
  core_.replyToWorker(
      routing_id, MessageType::kError,
      encodeBody(msg::ErrorReply{0,
                                 std::string(errorCodeName(ErrorCode::kUnauthorized)),
                                 "this key is allowed as worker '" + key_name +
                                     "' only; start the worker with --id " + key_name,
                                 {},
                                 {}}));
}

void WorkerMessageHandler::rejectMalformed(const std::string& routing_id, uint64_t id,
                                           const Error& error) {
  core_.refused(event::Refusal::kMalformed, peerName(routing_id));
  warnings_.warn("[worker {}] malformed message: {}", peerName(routing_id), error.message);
  // Workers get the same answer as clients; the send's status does not matter here.
  core_.replyToWorker(routing_id, MessageType::kError,
                      encodeBody(msg::ErrorReply{
                          id, std::string(errorCodeName(error.code)), error.message, {}, {}}));
}

}  // namespace ccmesh::broker
