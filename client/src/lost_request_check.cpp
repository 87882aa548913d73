#include "lost_request_check.hpp"

#include <algorithm>

#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/replies.hpp"

namespace ccmesh::client {

LostRequestCheck::LostRequestCheck(uint64_t request_id, Millis interval, TimePoint now)
    : request_id_(request_id), interval_(interval), last_heard_(now) {}

bool LostRequestCheck::due(TimePoint now) const {
  return interval_ > Millis{0} && ping_id_ == 0 && now - last_heard_ >= interval_;
}

Millis LostRequestCheck::untilDue(TimePoint now) const {
  if (interval_ <= Millis{0} || ping_id_ != 0) return Millis::max();
  const auto left = std::chrono::ceil<Millis>(last_heard_ + interval_ - now);
  return std::max(left, Millis{0});
}

Millis LostRequestCheck::untilUnanswered(TimePoint now) const {
  if (interval_ <= Millis{0} || ping_id_ == 0) return Millis::max();
  const auto left = std::chrono::ceil<Millis>(ping_sent_ + interval_ - now);
  return std::max(left, Millis{0});
}

bool LostRequestCheck::lost(const Expected<Envelope, DecodeError>& answer) {
  ping_id_ = 0;
  if (!answer.ok()) return false;
  if (answer.value().type == MessageType::kError) {
    // A standby with no leader to name (high availability): the broker talked to does not
    // serve, so nothing there holds the request.
    auto error = decodeBody<msg::ErrorReply>(answer.value());
    return error.ok() && error.value().code == errorCodeName(ErrorCode::kNotLeader) &&
           error.value().leader.empty();
  }
  if (answer.value().type != MessageType::kResult) return false;
  auto pong = decodeBody<msg::PingResult>(answer.value());
  if (!pong.ok()) return false;
  const auto& unknown = pong.value().unknown;
  return std::find(unknown.begin(), unknown.end(), request_id_) != unknown.end();
}

Expected<Envelope, DecodeError> LostRequestCheck::lostReply(uint64_t request_id,
                                                            const std::string& broker,
                                                            const std::string& partial) {
  const auto body = encodeBody(msg::ErrorReply{
      request_id, std::string(errorCodeName(ErrorCode::kUnavailable)),
      "the broker at " + broker +
          " no longer knows this request (it was restarted, or the connection to it was "
          "remade); a prompt may or may not have run",
      partial, ""});
  Envelope envelope;
  envelope.type = MessageType::kError;
  envelope.id = request_id;
  envelope.body = msgpack::unpack(body.data(), body.size());
  return envelope;
}

}  // namespace ccmesh::client
