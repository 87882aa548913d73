#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "output_writer.hpp"

namespace ccmesh::mock_cli {

// Token counts reported in assistant messages and results.
struct TokenUsage {
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;

  // A deterministic estimate: a token per four bytes, at least one.
  static uint64_t estimate(uint64_t bytes) { return bytes == 0 ? 1 : (bytes + 3) / 4; }
};

// Builds the stream-json objects the real CLI prints on stdout, for one session.
class StreamMessages {
 public:
  explicit StreamMessages(std::string session_id) : session_id_(std::move(session_id)) {}

  Json systemInit(const std::string& cwd, const std::string& model,
                  const std::vector<std::string>& tools, const std::string& permission_mode) const;

  // A stream_event line wrapping one Anthropic streaming event.
  Json streamEvent(Json event) const;
  static Json messageStartEvent(const std::string& message_id, const std::string& model,
                                uint64_t input_tokens);
  static Json contentBlockStartEvent();
  static Json textDeltaEvent(const std::string& text);
  static Json contentBlockStopEvent();
  static Json messageDeltaEvent(uint64_t output_tokens);
  static Json messageStopEvent();

  Json assistant(const std::string& message_id, const std::string& model, const std::string& text,
                 const TokenUsage& usage) const;
  Json successResult(const std::string& text, uint64_t duration_ms, const TokenUsage& usage) const;
  // The result of a turn ended by an interrupt: error_during_execution, no `result` field.
  Json interruptedResult(uint64_t duration_ms, const TokenUsage& usage) const;

  // The CLI asking its host whether it may use a tool (sent with --permission-prompt-tool
  // stdio): a can_use_tool control request suggesting an allow rule for the whole session.
  static Json canUseToolRequest(const std::string& request_id, const std::string& tool_name,
                                const Json& input, const std::string& tool_use_id);
  static Json controlSuccess(const Json& request_id, Json response);
  static Json controlError(const Json& request_id, const std::string& error);
  static Json transcriptMirror(const std::string& file_path, const Json& entry);

 private:
  static Json usageJson(const TokenUsage& usage);

  std::string session_id_;
};

}  // namespace ccmesh::mock_cli
