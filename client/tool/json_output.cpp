#include "json_output.hpp"

namespace ccmesh {

namespace client {

std::string wireCode(const ReplyError& error) {
  return error.code_name.empty() ? std::string(errorCodeName(error.code)) : error.code_name;
}

Json successJson(const Json& fields) {
  Json out = Json::object();
  out["ok"] = true;
  for (const auto& [key, value] : fields.items()) out[key] = value;
  return out;
}

Json errorJson(const ReplyError& error) {
  Json out = Json::object();
  out["ok"] = false;
  out["error"] =
      Json{{"code", wireCode(error)}, {"message", error.message}, {"partial", error.partial}};
  return out;
}

}  // namespace client
}  // namespace ccmesh
