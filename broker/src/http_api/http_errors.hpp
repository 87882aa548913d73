#pragma once

#include "ccmesh/client/client.hpp"
#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/json_forms.hpp"
#include "ccmesh/monitoring/http_endpoint.hpp"

namespace ccmesh::broker {

// The HTTP status of a ccmesh error code (docs/HTTP.md "Errors"): not_found 404,
// already_exists 409, busy and pool_exhausted 429, timeout 504, bad_request 400,
// unauthorized 401, unavailable 503, worker_lost and session_crashed 502, ...
int httpStatus(ErrorCode code);

// Seconds a client should wait before trying again after `code`, or 0 when trying again
// does not help (sent as Retry-After).
int retryAfterSeconds(ErrorCode code);

// The JSON body of a failed request: {"error": code, "message": ..., "partial": ...}.
Json errorJson(const client::ReplyError& error);

// The whole answer to a failed request: its status, Retry-After where it helps, the body.
monitoring::HttpEndpoint::Reply errorReply(const client::ReplyError& error);

// An error the HTTP API finds itself, before the broker sees the request.
client::ReplyError localError(ErrorCode code, std::string message);

}  // namespace ccmesh::broker
