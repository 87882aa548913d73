#include "ccmesh/common/message_type.hpp"

#include <array>
#include <utility>

namespace ccmesh {
namespace {

constexpr std::array<std::pair<MessageType, std::string_view>, 44> kNames{{
    {MessageType::kQuery, "query"},
    {MessageType::kStart, "start"},
    {MessageType::kTerminate, "terminate"},
    {MessageType::kRestart, "restart"},
    {MessageType::kInfo, "info"},
    {MessageType::kList, "list"},
    {MessageType::kCount, "count"},
    {MessageType::kStatus, "status"},
    {MessageType::kPing, "ping"},
    {MessageType::kCancel, "cancel"},
    {MessageType::kEvent, "event"},
    {MessageType::kResult, "result"},
    {MessageType::kError, "error"},
    {MessageType::kReady, "ready"},
    {MessageType::kHeartbeat, "heartbeat"},
    {MessageType::kSessionUpdate, "session"},
    {MessageType::kDelivered, "delivered"},
    {MessageType::kBye, "bye"},
    {MessageType::kWelcome, "welcome"},
    {MessageType::kAssign, "assign"},
    {MessageType::kPoolCreate, "pool_create"},
    {MessageType::kPoolQuery, "pool_query"},
    {MessageType::kPoolCheckout, "pool_checkout"},
    {MessageType::kPoolCheckin, "pool_checkin"},
    {MessageType::kPoolList, "pool_list"},
    {MessageType::kPoolInfo, "pool_info"},
    {MessageType::kPoolResize, "pool_resize"},
    {MessageType::kPoolDelete, "pool_delete"},
    {MessageType::kRejoin, "rejoin"},
    {MessageType::kLoad, "load"},
    {MessageType::kMove, "move"},
    {MessageType::kTranscript, "transcript"},
    {MessageType::kWatch, "watch"},
    {MessageType::kTranscriptAppend, "transcript_append"},
    {MessageType::kTranscriptFetch, "transcript_fetch"},
    {MessageType::kTranscriptAck, "transcript_ack"},
    {MessageType::kTranscriptSeed, "transcript_seed"},
    {MessageType::kPermissionRequest, "permission_request"},
    {MessageType::kPermissionReply, "permission_reply"},
    {MessageType::kPermissionDecision, "permission_decision"},
    {MessageType::kSet, "set"},
    {MessageType::kContext, "context"},
    {MessageType::kUsage, "usage"},
    {MessageType::kBudget, "budget"},
}};

}  // namespace

bool isReadOnly(MessageType type) {
  switch (type) {
    case MessageType::kInfo:
    case MessageType::kTranscript:
    case MessageType::kList:
    case MessageType::kCount:
    case MessageType::kStatus:
    case MessageType::kPoolList:
    case MessageType::kPoolInfo:
    case MessageType::kUsage:
      return true;
    default:
      return false;
  }
}

std::string_view messageTypeName(MessageType type) {
  for (const auto& [t, name] : kNames) {
    if (t == type) return name;
  }
  return "?";
}

std::optional<MessageType> parseMessageType(std::string_view name) {
  for (const auto& [t, n] : kNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

}  // namespace ccmesh
