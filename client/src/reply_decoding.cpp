#include "reply_decoding.hpp"

namespace ccmesh::client {

ReplyError toReplyError(const msg::ErrorReply& reply) {
  ReplyError error;
  error.code = parseErrorCode(reply.code).value_or(ErrorCode::kInternal);
  error.code_name = reply.code;
  error.message = reply.message;
  error.partial = reply.partial;
  if (error.code == ErrorCode::kNotLeader && reply.leader.empty()) {
    // A standby that knows no leader, and no other broker served: nothing serves now.
    error.code = ErrorCode::kUnavailable;
    error.code_name = errorCodeName(ErrorCode::kUnavailable);
  }
  return error;
}

ReplyError malformedReply(const std::string& why) {
  return ReplyError{ErrorCode::kBadRequest, std::string(errorCodeName(ErrorCode::kBadRequest)),
                    "malformed reply: " + why, ""};
}

namespace {

// A reply that is not final (an event, a tool question) decoded into `field`, or an error
// saying why it could not be.
template <class T>
Incoming notFinal(const Envelope& message, Incoming incoming, T Incoming::*field) {
  auto body = decodeBody<T>(message);
  if (body.ok()) {
    incoming.type = message.type;
    incoming.*field = std::move(body.value());
  } else {
    incoming.type = MessageType::kError;
    incoming.error = malformedReply(body.error().error.message);
  }
  return incoming;
}

}  // namespace

Incoming toIncoming(const Expected<Envelope, DecodeError>& message) {
  Incoming incoming;
  incoming.id = requestId(message);
  if (message.ok() && message.value().type == MessageType::kEvent) {
    return notFinal(message.value(), std::move(incoming), &Incoming::event);
  }
  if (message.ok() && message.value().type == MessageType::kPermissionRequest) {
    return notFinal(message.value(), std::move(incoming), &Incoming::permission);
  }
  auto final_reply = decodeFinal<msg::QueryResult>(message);
  if (final_reply.ok()) {
    incoming.type = MessageType::kResult;
    incoming.result = std::move(final_reply.value());
  } else {
    incoming.type = MessageType::kError;
    incoming.error = final_reply.error();
  }
  return incoming;
}

bool isFinal(const Expected<Envelope, DecodeError>& message) {
  return !message.ok() || (message.value().type != MessageType::kEvent &&
                           message.value().type != MessageType::kPermissionRequest);
}

bool isDuplicateIdRefusal(const Expected<Envelope, DecodeError>& message) {
  if (!message.ok() || message.value().type != MessageType::kError) return false;
  auto error = decodeBody<msg::ErrorReply>(message.value());
  return error.ok() && error.value().code == errorCodeName(ErrorCode::kDuplicateId);
}

uint64_t requestId(const Expected<Envelope, DecodeError>& message) {
  return message.ok() ? message.value().id : message.error().id;
}

}  // namespace ccmesh::client
