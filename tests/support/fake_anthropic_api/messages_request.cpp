#include "fake_anthropic_api/messages_request.hpp"

#include <nlohmann/json.hpp>

namespace ccmesh::test {
namespace {

using Json = nlohmann::json;

std::string stringField(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A string, or the text blocks of a list joined with `separator`.
std::string joinedText(const Json& content, const char* separator) {
  if (content.is_string()) return content.get<std::string>();
  std::string joined;
  if (!content.is_array()) return joined;
  for (const Json& block : content) {
    if (!block.is_object() || stringField(block, "type") != "text") continue;
    if (!joined.empty()) joined += separator;
    joined += stringField(block, "text");
  }
  return joined;
}

RequestMessage parseMessage(const Json& json) {
  RequestMessage message;
  if (!json.is_object()) return message;
  message.role = stringField(json, "role");
  auto content = json.find("content");
  if (content == json.end()) return message;
  if (content->is_string()) {
    message.texts.push_back(content->get<std::string>());
    return message;
  }
  if (!content->is_array()) return message;
  for (const Json& block : *content) {
    if (!block.is_object()) continue;
    const std::string type = stringField(block, "type");
    if (type == "text") {
      message.texts.push_back(stringField(block, "text"));
    } else if (type == "tool_use") {
      message.tool_uses.push_back(stringField(block, "name"));
    } else if (type == "tool_result") {
      ToolResultBlock result;
      result.tool_use_id = stringField(block, "tool_use_id");
      if (auto inner = block.find("content"); inner != block.end()) {
        result.content = joinedText(*inner, "\n");
      }
      auto is_error = block.find("is_error");
      result.is_error = is_error != block.end() && is_error->is_boolean() && is_error->get<bool>();
      message.tool_results.push_back(std::move(result));
    }
  }
  return message;
}

bool isPromptText(const std::string& text) {
  // The CLI adds context of its own as user text blocks: <system-reminder> sections, and a
  // note that the previous turn was interrupted.
  return !text.empty() && text.rfind("<system-reminder>", 0) != 0 &&
         text.rfind("[Request interrupted", 0) != 0;
}

}  // namespace

std::vector<std::string> RequestMessage::promptTexts() const {
  std::vector<std::string> prompts;
  for (const auto& text : texts) {
    if (isPromptText(text)) prompts.push_back(text);
  }
  return prompts;
}

std::optional<MessagesRequest> MessagesRequest::parse(std::string_view body) {
  const Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  auto messages = json.find("messages");
  if (messages == json.end() || !messages->is_array()) return std::nullopt;
  MessagesRequest request;
  request.body = std::string(body);
  request.model = stringField(json, "model");
  if (auto system = json.find("system"); system != json.end()) {
    request.system = joinedText(*system, "\n");
  }
  if (auto tools = json.find("tools"); tools != json.end() && tools->is_array()) {
    for (const Json& tool : *tools) {
      if (tool.is_object()) request.tool_names.push_back(stringField(tool, "name"));
    }
  }
  for (const Json& message : *messages) request.messages.push_back(parseMessage(message));
  auto stream = json.find("stream");
  request.stream = stream != json.end() && stream->is_boolean() && stream->get<bool>();
  return request;
}

std::vector<std::string> MessagesRequest::userPrompts() const {
  std::vector<std::string> prompts;
  for (const auto& message : messages) {
    if (message.role != "user") continue;
    const auto texts = message.promptTexts();
    if (!texts.empty()) prompts.push_back(texts.back());
  }
  return prompts;
}

std::string MessagesRequest::lastPrompt() const {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role != "user") continue;
    const auto texts = it->promptTexts();
    return texts.empty() ? std::string() : texts.back();
  }
  return {};
}

std::vector<ToolResultBlock> MessagesRequest::lastToolResults() const {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == "user") return it->tool_results;
  }
  return {};
}

std::vector<std::string> MessagesRequest::assistantTexts() const {
  std::vector<std::string> texts;
  for (const auto& message : messages) {
    if (message.role != "assistant") continue;
    for (const auto& text : message.texts) texts.push_back(text);
  }
  return texts;
}

bool MessagesRequest::mentions(std::string_view needle) const {
  if (system.find(needle) != std::string::npos) return true;
  for (const auto& message : messages) {
    for (const auto& text : message.texts) {
      if (text.find(needle) != std::string::npos) return true;
    }
    for (const auto& result : message.tool_results) {
      if (result.content.find(needle) != std::string::npos) return true;
    }
  }
  return false;
}

bool MessagesRequest::hasTool(std::string_view name) const {
  for (const auto& tool : tool_names) {
    if (tool == name) return true;
  }
  return false;
}

}  // namespace ccmesh::test
