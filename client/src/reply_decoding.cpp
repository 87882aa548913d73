#include "reply_decoding.hpp"

namespace ccmesh::client {

ReplyError toReplyError(const msg::ErrorReply& reply) {
  ReplyError error;
  error.code = parseErrorCode(reply.code).value_or(ErrorCode::kInternal);
  error.code_name = reply.code;
  error.message = reply.message;
  error.partial = reply.partial;
  return error;
}

ReplyError malformedReply(const std::string& why) {
  return ReplyError{ErrorCode::kBadRequest, std::string(errorCodeName(ErrorCode::kBadRequest)),
                    "malformed reply: " + why, ""};
}

Incoming toIncoming(const Expected<Envelope, DecodeError>& message) {
  Incoming incoming;
  incoming.id = requestId(message);
  if (message.ok() && message.value().type == MessageType::kEvent) {
    auto event = decodeBody<msg::Event>(message.value());
    if (event.ok()) {
      incoming.type = MessageType::kEvent;
      incoming.event = std::move(event.value());
      return incoming;
    }
    incoming.type = MessageType::kError;
    incoming.error = malformedReply(event.error().error.message);
    return incoming;
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
  return !message.ok() || message.value().type != MessageType::kEvent;
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
