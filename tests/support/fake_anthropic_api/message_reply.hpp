#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fake_anthropic_api/messages_request.hpp"

namespace ccmesh::test {

// One server-sent event of a streamed Messages API answer.
struct SseEvent {
  std::string name;  // message_start, content_block_delta, ...
  std::string data;  // its JSON

  // "event: NAME\ndata: DATA\n\n"
  std::string wire() const;
  bool isTextDelta() const;
};

// A tool call the fake API makes the model ask for.
struct ToolCall {
  std::string id;          // toolu_...
  std::string name;        // e.g. Bash
  std::string input_json;  // the tool's input, a JSON object
};

// How the fake API answers a request that carries no tool result and no tool marker.
struct ReplyRules {
  std::string tool_marker = "ccmesh-use-tool";        // a prompt containing it gets a tool_use
  std::string tool_command = "echo ccmesh-$((6*7))";  // the Bash command of that tool_use
};

// The tool the CLI offers with --json-schema: calling it ends the turn with its input as
// the structured value.
inline constexpr std::string_view kStructuredOutputTool = "StructuredOutput";

// What the fake API answers one request with, deterministically derived from it:
// - the last user message carries tool results: "tool said: <result>" (or "tool error:
//   <result>" when the tool failed or was refused);
// - the last prompt contains the tool marker: a tool_use block running the Bash command;
// - the request offers the StructuredOutput tool: a tool_use of it with
//   {"answer": "reply N to: <last prompt>"};
// - otherwise "reply N to: <last prompt>", N the number of user turns in the request.
// Renders itself as the API's JSON body or as its server-sent events.
class MessageReply {
 public:
  static MessageReply answering(const MessagesRequest& request, const ReplyRules& rules,
                                uint64_t serial);

  const std::string& text() const { return text_; }
  const std::optional<ToolCall>& toolCall() const { return tool_call_; }

  // The complete message, as the non-streaming answer.
  std::string json() const;
  // message_start, ping, content_block_start, content_block_delta..., content_block_stop,
  // message_delta, message_stop: exactly the real API's order.
  std::vector<SseEvent> events() const;

 private:
  std::string id_;                     // msg_...
  std::string model_;                  // echoes the request's model
  std::string text_;                   // the text answer (empty for a tool call)
  std::optional<ToolCall> tool_call_;  // the tool call answer
  uint64_t input_tokens_ = 0;          // reported usage
};

// The Messages API's error body for an HTTP status, e.g. for 529
// {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":...}.
std::string apiErrorBody(int status, std::string_view request_id);

// Splits text into word-sized deltas that join back to it.
std::vector<std::string> textDeltas(std::string_view text);

}  // namespace ccmesh::test
