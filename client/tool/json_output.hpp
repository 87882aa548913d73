#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ccmesh/client/client.hpp"
#include "ccmesh/common/json_forms.hpp"

// What `ccmesh --json` prints around the results' JSON forms (ccmesh/common/json_forms.hpp).
namespace ccmesh {

namespace client {

// The wire name of an error's code (code_name, or the name of code when that is empty).
std::string wireCode(const ReplyError& error);

// {"ok":true, ...the fields of `fields` (an object)}.
Json successJson(const Json& fields);

// {"ok":false,"error":{"code","message","partial"}}.
Json errorJson(const ReplyError& error);

}  // namespace client
}  // namespace ccmesh
