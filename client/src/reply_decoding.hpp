#pragma once

#include <string>

#include "ccmesh/client/client.hpp"
#include "ccmesh/common/codec.hpp"

// Turning what the broker sent back into the values Client returns. Nothing here throws:
// a reply that does not decode becomes a bad_request ReplyError ("malformed reply: ...").
namespace ccmesh::client {

// The ReplyError of an `error` body: an unknown wire code becomes kInternal, its name kept.
ReplyError toReplyError(const msg::ErrorReply& reply);

// The ReplyError of a reply that could not be decoded.
ReplyError malformedReply(const std::string& why);

// The final reply of a request as the result shape T, or its error. `result` bodies decode
// as T, `error` bodies as a ReplyError, anything else is malformed.
template <class T>
Expected<T, ReplyError> decodeFinal(const Expected<Envelope, DecodeError>& message) {
  if (!message.ok()) return malformedReply(message.error().error.message);
  const Envelope& envelope = message.value();
  if (envelope.type == MessageType::kError) {
    auto error = decodeBody<msg::ErrorReply>(envelope);
    if (!error.ok()) return malformedReply(error.error().error.message);
    return toReplyError(error.value());
  }
  if (envelope.type != MessageType::kResult) {
    return malformedReply("unexpected message type '" +
                          std::string(messageTypeName(envelope.type)) + "'");
  }
  auto result = decodeBody<T>(envelope);
  if (!result.ok()) return malformedReply(result.error().error.message);
  return std::move(result.value());
}

// Any reply as receive() hands it out: events and errors as they are, results as a
// QueryResult (the only requests in flight asynchronously are queries).
Incoming toIncoming(const Expected<Envelope, DecodeError>& message);

// Whether a message ends its request (`result`, `error`, or anything undecodable).
bool isFinal(const Expected<Envelope, DecodeError>& message);

// An `error` duplicate_id: the broker refused a request because another request of that id
// was in flight. It ends the request refused, never the one in flight, whose final reply is
// still to come.
bool isDuplicateIdRefusal(const Expected<Envelope, DecodeError>& message);

// The request id a message is about (0 when it could not be read).
uint64_t requestId(const Expected<Envelope, DecodeError>& message);

}  // namespace ccmesh::client
