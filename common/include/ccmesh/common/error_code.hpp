#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ccmesh {

// The stable error codes a request can end with. Their wire names (errorCodeName) are part
// of the protocol: clients in any language compare against them.
enum class ErrorCode {
  kNotFound,         // no session (or pool) of that name
  kAlreadyExists,    // start of a name that is already registered
  kBusy,             // the session's queue is full
  kTimeout,          // the request's deadline passed
  kCancelled,        // the client (or a restart) cancelled the request
  kWorkerLost,       // the worker holding the prompt died after the prompt reached its CLI
  kSessionCrashed,   // the CLI exited in the middle of the turn
  kSessionFailed,    // the session restarted too often and is FAILED
  kUnavailable,      // no worker could take the request in time, or the model API failed the turn
  kPoolExhausted,    // every member of a pool is busy or checked out
  kBadRequest,       // malformed frames, bad fields, oversized values, invalid options
  kDuplicateId,      // the client already has a request of that id in flight; that one goes on
  kUnauthorized,     // the caller may not do this
  kVersionMismatch,  // the protocol tag is not CCM1
  kInternal,         // a bug or an unexpected local failure (spawn failed, ...)
  kConversationIncomplete,  // the session's conversation was cut (entries lost): a restart
                            // accepts the cut (--from-cut) or starts afresh
  kBudgetExhausted,         // the session spent its max_budget_usd
  kNotLeader,  // a standby broker (high availability): `leader` names the one that serves
};

std::string_view errorCodeName(ErrorCode code);
std::optional<ErrorCode> parseErrorCode(std::string_view name);

// An error as it travels: a stable code plus a human-readable message.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

}  // namespace ccmesh
