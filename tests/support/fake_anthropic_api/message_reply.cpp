#include "fake_anthropic_api/message_reply.hpp"

#include <nlohmann/json.hpp>

namespace ccmesh::test {
namespace {

using Json = nlohmann::json;

std::string dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

SseEvent event(std::string name, const Json& data) { return SseEvent{std::move(name), dump(data)}; }

Json usage(uint64_t input_tokens, uint64_t output_tokens) {
  return Json{{"input_tokens", input_tokens},
              {"cache_creation_input_tokens", 0},
              {"cache_read_input_tokens", 0},
              {"output_tokens", output_tokens}};
}

}  // namespace

std::string SseEvent::wire() const { return "event: " + name + "\ndata: " + data + "\n\n"; }

bool SseEvent::isTextDelta() const {
  return name == "content_block_delta" && data.find("\"text_delta\"") != std::string::npos;
}

std::vector<std::string> textDeltas(std::string_view text) {
  std::vector<std::string> deltas;
  std::size_t start = 0;
  while (start < text.size()) {
    // Each delta is a run of spaces followed by a word.
    std::size_t end = text.find_first_not_of(' ', start);
    if (end != std::string_view::npos) end = text.find(' ', end);
    if (end == std::string_view::npos) end = text.size();
    deltas.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return deltas;
}

MessageReply MessageReply::answering(const MessagesRequest& request, const ReplyRules& rules,
                                     uint64_t serial) {
  MessageReply reply;
  reply.id_ = "msg_fake_" + std::to_string(serial);
  reply.model_ = request.model.empty() ? "claude-fake" : request.model;
  reply.input_tokens_ = request.body.size() / 4 + 1;
  const auto results = request.lastToolResults();
  const std::string prompt = request.lastPrompt();
  if (!results.empty()) {
    const auto& result = results.back();
    reply.text_ = (result.is_error ? "tool error: " : "tool said: ") + result.content;
  } else if (!rules.tool_marker.empty() && prompt.find(rules.tool_marker) != std::string::npos) {
    Json input{{"command", rules.tool_command}, {"description", "Run the ccmesh test command"}};
    reply.tool_call_ = ToolCall{"toolu_fake_" + std::to_string(serial), "Bash", dump(input)};
  } else if (request.hasTool(kStructuredOutputTool)) {
    // --json-schema: the CLI ends the turn with the input of this tool as its value.
    Json input{{"answer", "reply " + std::to_string(request.userPrompts().size()) +
                              " to: " + request.lastPrompt()}};
    reply.tool_call_ = ToolCall{"toolu_fake_" + std::to_string(serial),
                                std::string(kStructuredOutputTool), dump(input)};
  } else {
    reply.text_ =
        "reply " + std::to_string(request.userPrompts().size()) + " to: " + request.lastPrompt();
  }
  return reply;
}

std::string MessageReply::json() const {
  Json content = Json::array();
  if (tool_call_) {
    content.push_back({{"type", "tool_use"},
                       {"id", tool_call_->id},
                       {"name", tool_call_->name},
                       {"input", Json::parse(tool_call_->input_json)}});
  } else {
    content.push_back({{"type", "text"}, {"text", text_}});
  }
  Json message{{"id", id_},
               {"type", "message"},
               {"role", "assistant"},
               {"model", model_},
               {"content", std::move(content)},
               {"stop_reason", tool_call_ ? "tool_use" : "end_turn"},
               {"stop_sequence", nullptr},
               {"usage", usage(input_tokens_, textDeltas(text_).size() + 1)}};
  return dump(message);
}

std::vector<SseEvent> MessageReply::events() const {
  std::vector<SseEvent> events;
  Json message{{"id", id_},
               {"type", "message"},
               {"role", "assistant"},
               {"model", model_},
               {"content", Json::array()},
               {"stop_reason", nullptr},
               {"stop_sequence", nullptr},
               {"usage", usage(input_tokens_, 1)}};
  events.push_back(event("message_start", {{"type", "message_start"}, {"message", message}}));
  events.push_back(event("ping", {{"type", "ping"}}));
  std::size_t output_tokens = 1;
  if (tool_call_) {
    events.push_back(event("content_block_start", {{"type", "content_block_start"},
                                                   {"index", 0},
                                                   {"content_block",
                                                    {{"type", "tool_use"},
                                                     {"id", tool_call_->id},
                                                     {"name", tool_call_->name},
                                                     {"input", Json::object()}}}}));
    // The input arrives as partial JSON in pieces, like the real API sends it.
    const std::string& input = tool_call_->input_json;
    const std::size_t half = input.size() / 2;
    for (const std::string& piece : {input.substr(0, half), input.substr(half)}) {
      events.push_back(event("content_block_delta",
                             {{"type", "content_block_delta"},
                              {"index", 0},
                              {"delta", {{"type", "input_json_delta"}, {"partial_json", piece}}}}));
      ++output_tokens;
    }
  } else {
    events.push_back(
        event("content_block_start", {{"type", "content_block_start"},
                                      {"index", 0},
                                      {"content_block", {{"type", "text"}, {"text", ""}}}}));
    for (const auto& delta : textDeltas(text_)) {
      events.push_back(
          event("content_block_delta", {{"type", "content_block_delta"},
                                        {"index", 0},
                                        {"delta", {{"type", "text_delta"}, {"text", delta}}}}));
      ++output_tokens;
    }
  }
  events.push_back(event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}));
  events.push_back(event("message_delta", {{"type", "message_delta"},
                                           {"delta",
                                            {{"stop_reason", tool_call_ ? "tool_use" : "end_turn"},
                                             {"stop_sequence", nullptr}}},
                                           {"usage", {{"output_tokens", output_tokens}}}}));
  events.push_back(event("message_stop", {{"type", "message_stop"}}));
  return events;
}

std::string apiErrorBody(int status, std::string_view request_id) {
  std::string type = "api_error";
  std::string message = "Internal server error";
  switch (status) {
    case 400:
      type = "invalid_request_error";
      message = "Invalid request";
      break;
    case 401:
      type = "authentication_error";
      message = "invalid x-api-key";
      break;
    case 403:
      type = "permission_error";
      message = "Your API key does not have permission to use the specified resource.";
      break;
    case 404:
      type = "not_found_error";
      message = "Not found";
      break;
    case 413:
      type = "request_too_large";
      message = "Request exceeds the maximum allowed number of bytes.";
      break;
    case 429:
      type = "rate_limit_error";
      message = "Number of request tokens has exceeded your per-minute rate limit";
      break;
    case 529:
      type = "overloaded_error";
      message = "Overloaded";
      break;
    default:
      break;
  }
  return dump(Json{{"type", "error"},
                   {"error", {{"type", type}, {"message", message}}},
                   {"request_id", request_id}});
}

}  // namespace ccmesh::test
