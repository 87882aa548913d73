#include "http_api/http_errors.hpp"

#include <string>

namespace ccmesh::broker {

int httpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kDuplicateId:
    case ErrorCode::kCancelled:
    case ErrorCode::kConversationIncomplete:
      return 409;
    case ErrorCode::kBusy:
    case ErrorCode::kPoolExhausted:
      return 429;
    case ErrorCode::kBudgetExhausted:
      return 402;
    case ErrorCode::kTimeout:
      return 504;
    case ErrorCode::kBadRequest:
    case ErrorCode::kVersionMismatch:
      return 400;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kUnavailable:
    case ErrorCode::kSessionFailed:
    case ErrorCode::kNotLeader:
      return 503;
    case ErrorCode::kWorkerLost:
    case ErrorCode::kSessionCrashed:
      return 502;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

int retryAfterSeconds(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBusy:
    case ErrorCode::kPoolExhausted:
    case ErrorCode::kUnavailable:
      return 1;
    default:
      return 0;
  }
}

Json errorJson(const client::ReplyError& error) {
  Json body{
      {"error", error.code_name.empty() ? std::string(errorCodeName(error.code)) : error.code_name},
      {"message", error.message}};
  if (!error.partial.empty()) body["partial"] = error.partial;
  return body;
}

monitoring::HttpEndpoint::Reply errorReply(const client::ReplyError& error) {
  monitoring::HttpEndpoint::Reply reply{httpStatus(error.code), "application/json",
                                        jsonText(errorJson(error)) + "\n"};
  if (const int seconds = retryAfterSeconds(error.code); seconds > 0) {
    reply.headers.emplace_back("Retry-After", std::to_string(seconds));
  }
  return reply;
}

client::ReplyError localError(ErrorCode code, std::string message) {
  return client::ReplyError{code, std::string(errorCodeName(code)), std::move(message), ""};
}

}  // namespace ccmesh::broker
