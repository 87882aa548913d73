#include "ccmesh/common/error_code.hpp"

#include <array>
#include <utility>

namespace ccmesh {
namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 18> kNames{{
    {ErrorCode::kNotFound, "not_found"},
    {ErrorCode::kAlreadyExists, "already_exists"},
    {ErrorCode::kBusy, "busy"},
    {ErrorCode::kTimeout, "timeout"},
    {ErrorCode::kCancelled, "cancelled"},
    {ErrorCode::kWorkerLost, "worker_lost"},
    {ErrorCode::kSessionCrashed, "session_crashed"},
    {ErrorCode::kSessionFailed, "session_failed"},
    {ErrorCode::kUnavailable, "unavailable"},
    {ErrorCode::kPoolExhausted, "pool_exhausted"},
    {ErrorCode::kBadRequest, "bad_request"},
    {ErrorCode::kDuplicateId, "duplicate_id"},
    {ErrorCode::kUnauthorized, "unauthorized"},
    {ErrorCode::kVersionMismatch, "version_mismatch"},
    {ErrorCode::kInternal, "internal"},
    {ErrorCode::kConversationIncomplete, "conversation_incomplete"},
    {ErrorCode::kBudgetExhausted, "budget_exhausted"},
    {ErrorCode::kNotLeader, "not_leader"},
}};

}  // namespace

std::string_view errorCodeName(ErrorCode code) {
  for (const auto& [c, name] : kNames) {
    if (c == code) return name;
  }
  return "internal";
}

std::optional<ErrorCode> parseErrorCode(std::string_view name) {
  for (const auto& [c, n] : kNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

}  // namespace ccmesh
