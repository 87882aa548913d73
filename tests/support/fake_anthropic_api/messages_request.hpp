#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccmesh::test {

// A tool_result block of a user message: what a tool printed and whether it failed.
struct ToolResultBlock {
  std::string tool_use_id;  // the tool_use it answers
  std::string content;      // its text (text blocks of a list joined)
  bool is_error = false;    // the tool failed or was refused
};

// One entry of a request's `messages`, reduced to what tests assert on.
struct RequestMessage {
  std::string role;                           // user, assistant, or system (newer CLIs)
  std::vector<std::string> texts;             // its text blocks (a string content is one block)
  std::vector<std::string> tool_uses;         // names of its tool_use blocks
  std::vector<ToolResultBlock> tool_results;  // its tool_result blocks

  // The text blocks a person wrote: without the CLI's <system-reminder> blocks and
  // interruption notes.
  std::vector<std::string> promptTexts() const;
};

// One POST /v1/messages as the fake API received it: the fields of the Messages API a test
// wants to check (what the CLI really sent), plus the raw body.
struct MessagesRequest {
  std::string model;                     // `model`
  std::string system;                    // `system`: a string, or its text blocks joined with "\n"
  std::vector<std::string> tool_names;   // `tools[].name`, in order
  std::vector<RequestMessage> messages;  // `messages`, in order
  bool stream = false;                   // `stream`
  std::string session_header;            // X-Claude-Code-Session-Id, if the CLI sent it
  std::string body;                      // the raw JSON body

  // Parses a request body; nullopt when it is not a JSON object with a `messages` array.
  static std::optional<MessagesRequest> parse(std::string_view body);

  // The prompt of every user turn, oldest first (one per user message that carries
  // prompt text; tool results alone are not turns).
  std::vector<std::string> userPrompts() const;
  // The last user message's last prompt text, or "" when it carries none.
  std::string lastPrompt() const;
  // The tool results of the last user message (the follow-up of a tool_use answer).
  std::vector<ToolResultBlock> lastToolResults() const;
  // Every assistant text, oldest first.
  std::vector<std::string> assistantTexts() const;
  // True when some text of any message (or the system prompt) contains `needle`.
  bool mentions(std::string_view needle) const;
  bool hasTool(std::string_view name) const;
};

}  // namespace ccmesh::test
