#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/expected.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/session_options.hpp"

// JSON forms of the protocol's results, as `ccmesh --json` prints them and the HTTP API
// serves them. Objects keep their fields in protocol order. The to_json overloads live
// beside the types they convert so nlohmann finds them by ADL.
namespace ccmesh {

using Json = nlohmann::ordered_json;

// `json` as one line of text. Strings that are not valid UTF-8 (a CLI's stray bytes) show
// U+FFFD where the bytes were wrong, where a plain dump() would throw.
std::string jsonText(const Json& json);

// A Unix time in ms as UTC ISO 8601 (2026-12-04T21:30:00Z), or "-" for 0.
std::string isoTime(uint64_t unix_ms);

void to_json(Json& json, const SessionOptions& options);
void to_json(Json& json, const Usage& usage);
// Session options from a JSON object of the same keys (the HTTP API's `start`): strings and
// numbers as their values, lists as arrays of strings, env and require as objects of
// strings. Unknown keys, values of the wrong type and invalid options are bad_request.
Expected<SessionOptions, Error> sessionOptionsFromJson(const Json& object);

namespace msg {
void to_json(Json& json, const QueryResult& result);
void to_json(Json& json, const Ack& ack);
void to_json(Json& json, const SessionInfo& info);
void to_json(Json& json, const CountResult& count);
void to_json(Json& json, const WorkerInfo& worker);
void to_json(Json& json, const HaMember& member);
void to_json(Json& json, const HaStatus& ha);
void to_json(Json& json, const StatusResult& status);
void to_json(Json& json, const PingResult& ping);
void to_json(Json& json, const PoolMemberInfo& member);
void to_json(Json& json, const PoolInfo& pool);
void to_json(Json& json, const CheckoutResult& checkout);
void to_json(Json& json, const CheckinResult& checkin);
void to_json(Json& json, const UsageRow& row);
void to_json(Json& json, const UsageResult& usage);
void to_json(Json& json, const BudgetResult& budget);
// {"seq","time","time_ms","type","text", then the event's fields}: `ccmesh watch --json`
// and the HTTP endpoint's /events.
void to_json(Json& json, const FeedEvent& event);
}  // namespace msg

}  // namespace ccmesh
