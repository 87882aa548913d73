#include "stream_messages.hpp"

#include "mock_ids.hpp"

namespace ccmesh::mock_cli {

Json StreamMessages::systemInit(const std::string& cwd, const std::string& model,
                                const std::vector<std::string>& tools,
                                const std::string& permission_mode) const {
  Json message;
  message["type"] = "system";
  message["subtype"] = "init";
  message["session_id"] = session_id_;
  message["cwd"] = cwd;
  message["model"] = model;
  message["tools"] = tools;
  message["mcp_servers"] = Json::array();
  message["permissionMode"] = permission_mode;
  message["claude_code_version"] = "mock-0.1.0";
  message["apiKeySource"] = "none";
  message["uuid"] = newUuidV4();
  return message;
}

Json StreamMessages::streamEvent(Json event) const {
  Json message;
  message["type"] = "stream_event";
  message["event"] = std::move(event);
  message["session_id"] = session_id_;
  message["parent_tool_use_id"] = nullptr;
  message["uuid"] = newUuidV4();
  return message;
}

Json StreamMessages::messageStartEvent(const std::string& message_id, const std::string& model,
                                       uint64_t input_tokens) {
  Json message;
  message["id"] = message_id;
  message["type"] = "message";
  message["role"] = "assistant";
  message["model"] = model;
  message["content"] = Json::array();
  message["stop_reason"] = nullptr;
  message["usage"] = usageJson({input_tokens, 0});
  Json event;
  event["type"] = "message_start";
  event["message"] = std::move(message);
  return event;
}

Json StreamMessages::contentBlockStartEvent() {
  Json event;
  event["type"] = "content_block_start";
  event["index"] = 0;
  event["content_block"] = {{"type", "text"}, {"text", ""}};
  return event;
}

Json StreamMessages::textDeltaEvent(const std::string& text) {
  Json event;
  event["type"] = "content_block_delta";
  event["index"] = 0;
  event["delta"] = {{"type", "text_delta"}, {"text", text}};
  return event;
}

Json StreamMessages::contentBlockStopEvent() {
  Json event;
  event["type"] = "content_block_stop";
  event["index"] = 0;
  return event;
}

Json StreamMessages::messageDeltaEvent(uint64_t output_tokens) {
  Json event;
  event["type"] = "message_delta";
  event["delta"] = {{"stop_reason", "end_turn"}};
  event["usage"] = {{"output_tokens", output_tokens}};
  return event;
}

Json StreamMessages::messageStopEvent() {
  Json event;
  event["type"] = "message_stop";
  return event;
}

Json StreamMessages::assistant(const std::string& message_id, const std::string& model,
                               const std::string& text, const TokenUsage& usage) const {
  Json block;
  block["type"] = "text";
  block["text"] = text;
  Json body;
  body["id"] = message_id;
  body["type"] = "message";
  body["role"] = "assistant";
  body["model"] = model;
  body["content"] = Json::array({std::move(block)});
  body["stop_reason"] = "end_turn";
  body["usage"] = usageJson(usage);
  Json message;
  message["type"] = "assistant";
  message["message"] = std::move(body);
  message["parent_tool_use_id"] = nullptr;
  message["session_id"] = session_id_;
  message["uuid"] = newUuidV4();
  return message;
}

Json StreamMessages::successResult(const std::string& text, uint64_t duration_ms,
                                   const TokenUsage& usage) const {
  Json message;
  message["type"] = "result";
  message["subtype"] = "success";
  message["is_error"] = false;
  message["duration_ms"] = duration_ms;
  message["duration_api_ms"] = duration_ms;
  message["num_turns"] = 1;
  message["result"] = text;
  message["session_id"] = session_id_;
  message["total_cost_usd"] = 0;
  message["usage"] = usageJson(usage);
  message["uuid"] = newUuidV4();
  return message;
}

Json StreamMessages::interruptedResult(uint64_t duration_ms, const TokenUsage& usage) const {
  Json message;
  message["type"] = "result";
  message["subtype"] = "error_during_execution";
  message["is_error"] = true;
  message["terminal_reason"] = "aborted_streaming";
  message["duration_ms"] = duration_ms;
  message["duration_api_ms"] = duration_ms;
  message["num_turns"] = 1;
  message["session_id"] = session_id_;
  message["total_cost_usd"] = 0;
  message["errors"] = Json::array({"interrupted"});
  message["usage"] = usageJson(usage);
  message["uuid"] = newUuidV4();
  return message;
}

Json StreamMessages::canUseToolRequest(const std::string& request_id, const std::string& tool_name,
                                       const Json& input, const std::string& tool_use_id) {
  Json rule;
  rule["toolName"] = tool_name;
  Json suggestion;
  suggestion["type"] = "addRules";
  suggestion["rules"] = Json::array({std::move(rule)});
  suggestion["behavior"] = "allow";
  suggestion["destination"] = "session";
  Json request;
  request["subtype"] = "can_use_tool";
  request["tool_name"] = tool_name;
  request["input"] = input;
  request["permission_suggestions"] = Json::array({std::move(suggestion)});
  request["tool_use_id"] = tool_use_id;
  request["decision_reason"] = "the mock CLI asks for every tool";
  request["blocked_path"] = nullptr;
  Json message;
  message["type"] = "control_request";
  message["request_id"] = request_id;
  message["request"] = std::move(request);
  return message;
}

Json StreamMessages::controlSuccess(const Json& request_id, Json response) {
  Json inner;
  inner["subtype"] = "success";
  inner["request_id"] = request_id;
  inner["response"] = std::move(response);
  Json message;
  message["type"] = "control_response";
  message["response"] = std::move(inner);
  return message;
}

Json StreamMessages::controlError(const Json& request_id, const std::string& error) {
  Json inner;
  inner["subtype"] = "error";
  inner["request_id"] = request_id;
  inner["error"] = error;
  Json message;
  message["type"] = "control_response";
  message["response"] = std::move(inner);
  return message;
}

Json StreamMessages::transcriptMirror(const std::string& file_path, const Json& entry) {
  Json message;
  message["type"] = "transcript_mirror";
  message["filePath"] = file_path;
  message["entries"] = Json::array({entry});
  return message;
}

Json StreamMessages::usageJson(const TokenUsage& usage) {
  Json json;
  json["input_tokens"] = usage.input_tokens;
  json["output_tokens"] = usage.output_tokens;
  return json;
}

}  // namespace ccmesh::mock_cli
