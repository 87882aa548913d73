#include "ccmesh/worker/cli_messages.hpp"

#include <nlohmann/json.hpp>

namespace ccmesh::worker::cli_messages {
namespace {

using Json = nlohmann::json;

// One JSON line. Invalid UTF-8 in a prompt is replaced rather than thrown on: the prompt
// comes from a peer.
std::string line(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string controlRequest(std::string_view request_id, Json request) {
  Json json;
  json["type"] = "control_request";
  json["request_id"] = request_id;
  json["request"] = std::move(request);
  return line(json);
}

std::string toolResponse(std::string_view request_id, Json response) {
  Json json;
  json["type"] = "control_response";
  json["response"] = {
      {"subtype", "success"}, {"request_id", request_id}, {"response", std::move(response)}};
  return line(json);
}

}  // namespace

std::string userMessage(std::string_view prompt) {
  Json json;
  json["type"] = "user";
  json["message"] = {{"role", "user"}, {"content", prompt}};
  json["parent_tool_use_id"] = nullptr;
  json["session_id"] = "default";
  return line(json);
}

std::string initializeRequest(std::string_view request_id) {
  return controlRequest(request_id, {{"subtype", "initialize"}, {"hooks", nullptr}});
}

std::string interruptRequest(std::string_view request_id) {
  return controlRequest(request_id, {{"subtype", "interrupt"}});
}

std::string setModelRequest(std::string_view request_id, std::string_view model) {
  return controlRequest(request_id, {{"subtype", "set_model"}, {"model", model}});
}

std::string setPermissionModeRequest(std::string_view request_id, std::string_view mode) {
  return controlRequest(request_id, {{"subtype", "set_permission_mode"}, {"mode", mode}});
}

std::string contextUsageRequest(std::string_view request_id) {
  return controlRequest(request_id, {{"subtype", "get_context_usage"}});
}

std::optional<std::string> allowToolResponse(std::string_view request_id, std::string_view input) {
  Json parsed = Json::parse(input, nullptr, false);
  if (!parsed.is_object()) return std::nullopt;
  return toolResponse(request_id, {{"behavior", "allow"}, {"updatedInput", std::move(parsed)}});
}

std::string denyToolResponse(std::string_view request_id, std::string_view message) {
  return toolResponse(request_id,
                      {{"behavior", "deny"}, {"message", message}, {"interrupt", false}});
}

std::string unsupportedResponse(std::string_view request_id, std::string_view subtype) {
  Json json;
  json["type"] = "control_response";
  json["response"] = {{"subtype", "error"},
                      {"request_id", request_id},
                      {"error", "Unsupported control request subtype: " + std::string(subtype)}};
  return line(json);
}

}  // namespace ccmesh::worker::cli_messages
