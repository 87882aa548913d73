#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ccmesh/client/client.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/session_options.hpp"

// JSON forms of what `ccmesh --json` prints. Objects keep their fields in protocol order.
// The to_json overloads live beside the types they convert so nlohmann finds them by ADL.
namespace ccmesh {

using Json = nlohmann::ordered_json;

void to_json(Json& json, const SessionOptions& options);

namespace msg {
void to_json(Json& json, const QueryResult& result);
void to_json(Json& json, const Ack& ack);
void to_json(Json& json, const SessionInfo& info);
void to_json(Json& json, const CountResult& count);
void to_json(Json& json, const WorkerInfo& worker);
void to_json(Json& json, const StatusResult& status);
void to_json(Json& json, const PingResult& ping);
void to_json(Json& json, const PoolMemberInfo& member);
void to_json(Json& json, const PoolInfo& pool);
void to_json(Json& json, const CheckoutResult& checkout);
void to_json(Json& json, const CheckinResult& checkin);
}  // namespace msg

namespace client {

// The wire name of an error's code (code_name, or the name of code when that is empty).
std::string wireCode(const ReplyError& error);

// {"ok":true, ...the fields of `fields` (an object)}.
Json successJson(const Json& fields);

// {"ok":false,"error":{"code","message","partial"}}.
Json errorJson(const ReplyError& error);

}  // namespace client
}  // namespace ccmesh
