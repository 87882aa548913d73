#include "ccmesh/worker/stream_json_parser.hpp"

#include <algorithm>
#include <array>

#include "ccmesh/common/worker_messages.hpp"
#include "ccmesh/worker/json_view.hpp"

namespace ccmesh::worker {
namespace {

using Kind = CliEvent::Kind;

// A JsonView with array iteration: what the extraction functions below read.
class Node {
 public:
  explicit Node(JsonView view) : view_(view) {}
  Node get(std::string_view key) const { return Node(view_.get(key)); }
  bool present() const { return view_.present(); }
  bool isString() const { return view_.isString(); }
  bool isObject() const { return view_.isObject(); }
  bool isArray() const { return view_.isArray(); }
  bool isNumber() const { return view_.isNumber(); }
  bool isTrue() const { return view_.isTrue(); }
  std::string string() const { return view_.string(); }
  // The value's text as written.
  std::string raw() const { return std::string(view_.raw()); }
  double number() const { return view_.number(); }
  uint64_t unsignedNumber() const { return view_.unsignedNumber(); }
  template <class F>
  void forEach(F&& f) const {
    for (JsonView element = view_.first(); element.type() != JsonView::Type::kMissing;
         element = element.next(view_)) {
      f(Node(element));
    }
  }

 private:
  JsonView view_;  // the value
};

// `snake` if present, else `camel`.
Node either(const Node& object, std::string_view snake, std::string_view camel) {
  Node value = object.get(snake);
  return value.present() ? value : object.get(camel);
}

// `origin` absent or naming the user means the turn answers our prompt; anything else
// (e.g. {"kind":"task-notification"}) is a turn the CLI started by itself.
bool solicitedOrigin(const Node& line) {
  const Node origin = line.get("origin");
  if (!origin.present()) return true;
  std::string kind;
  if (origin.isString()) {
    kind = origin.string();
  } else if (origin.isObject()) {
    kind = either(origin, "kind", "type").string();
  } else {
    return true;
  }
  constexpr std::array<std::string_view, 6> kUserKinds{"",      "user",        "prompt",
                                                       "human", "user_prompt", "user-prompt"};
  return std::find(kUserKinds.begin(), kUserKinds.end(), kind) != kUserKinds.end();
}

void extractResult(const Node& line, CliEvent& event) {
  event.kind = Kind::kResult;
  event.subtype = line.get("subtype").string();
  event.is_error = either(line, "is_error", "isError").isTrue();
  event.solicited = solicitedOrigin(line);
  event.text = line.get("result").string();
  line.get("errors").forEach([&event](const Node& error) {
    if (!error.isString()) return;
    if (!event.errors.empty()) event.errors += "; ";
    event.errors += error.string();
  });
  event.api_error_status = either(line, "api_error_status", "apiErrorStatus").unsignedNumber();
  event.terminal_reason = either(line, "terminal_reason", "terminalReason").string();
  event.duration_ms = either(line, "duration_ms", "durationMs").unsignedNumber();
  event.cost_usd = std::max(0.0, either(line, "total_cost_usd", "totalCostUsd").number());
  const Node usage = line.get("usage");
  event.input_tokens = either(usage, "input_tokens", "inputTokens").unsignedNumber();
  event.output_tokens = either(usage, "output_tokens", "outputTokens").unsignedNumber();
  const Node structured = either(line, "structured_output", "structuredOutput");
  if (structured.present()) event.structured = std::string(structured.raw());
}

void extractMirror(const Node& line, CliEvent& event) {
  event.kind = Kind::kTranscriptMirror;
  event.file_path = either(line, "file_path", "filePath").string();
  const Node entries = line.get("entries");
  if (!entries.isArray()) {
    event.bad_entries = 1;
    return;
  }
  entries.forEach([&event](const Node& entry) {
    std::string text = entry.isObject() ? entry.raw() : std::string();
    // A JSONL line each: raw text keeps the CLI's own spelling, but must not break lines.
    if (text.empty() || text.size() > msg::TranscriptAppend::kMaxEntryBytes ||
        text.find('\n') != std::string::npos) {
      ++event.bad_entries;
      return;
    }
    event.entries.push_back(std::move(text));
  });
}

void extractToolQuestion(const Node& request, CliEvent& event) {
  const Node input = request.get("input");
  event.tool_input = input.isObject() ? std::string(input.raw()) : "{}";
  event.tool_use_id = either(request, "tool_use_id", "toolUseID").string();
  const Node suggestions = either(request, "permission_suggestions", "permissionSuggestions");
  event.suggestions = suggestions.isArray() ? std::string(suggestions.raw()) : "[]";
  event.reason = either(request, "decision_reason", "decisionReason").string();
  if (event.reason.empty()) event.reason = either(request, "blocked_path", "blockedPath").string();
}

void extract(const Node& line, CliEvent& event) {
  event.type = line.get("type").string();
  event.session_id = either(line, "session_id", "sessionId").string();
  event.from_subagent = either(line, "parent_tool_use_id", "parentToolUseId").present();
  if (event.type == "system") {
    event.subtype = line.get("subtype").string();
    if (event.subtype == "init") event.kind = Kind::kInit;
  } else if (event.type == "stream_event") {
    const Node inner = line.get("event");
    const Node delta = inner.get("delta");
    if (inner.get("type").string() == "content_block_delta" &&
        delta.get("type").string() == "text_delta") {
      event.kind = Kind::kTextDelta;
      event.text = delta.get("text").string();
    }
  } else if (event.type == "assistant") {
    event.kind = Kind::kAssistant;
    const Node content = line.get("message").get("content");
    if (content.isString()) event.text = content.string();
    content.forEach([&event](const Node& block) {
      if (block.get("type").string() == "text") event.text += block.get("text").string();
    });
  } else if (event.type == "result") {
    extractResult(line, event);
  } else if (event.type == "control_response") {
    event.kind = Kind::kControlResponse;
    const Node response = line.get("response");
    const Node& body = response.isObject() ? response : line;
    event.subtype = body.get("subtype").string();
    event.request_id = either(body, "request_id", "requestId").string();
    if (event.request_id.empty())
      event.request_id = either(line, "request_id", "requestId").string();
    event.error = body.get("error").string();
    const Node inner = body.get("response");
    event.response = inner.isObject() ? std::string(inner.raw()) : "{}";
  } else if (event.type == "control_request") {
    event.kind = Kind::kControlRequest;
    event.request_id = either(line, "request_id", "requestId").string();
    const Node request = line.get("request");
    event.subtype = request.get("subtype").string();
    event.tool_name = either(request, "tool_name", "toolName").string();
    if (event.subtype == "can_use_tool") extractToolQuestion(request, event);
  } else if (event.type == "control_cancel_request") {
    event.kind = Kind::kControlCancel;
    event.request_id = either(line, "request_id", "requestId").string();
  } else if (event.type == "transcript_mirror") {
    extractMirror(line, event);
  }
}

}  // namespace

CliEvent StreamJsonParser::parse(std::string_view line) {
  CliEvent event;
  const auto first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos || line[first] != '{') return event;  // kIgnored
  line.remove_prefix(first);
  auto malformed = [&](const char* problem) {
    ++malformed_;
    event.kind = Kind::kMalformed;
    event.problem = problem;
    return event;
  };
  auto view = JsonView::parse(line);
  if (!view) return malformed("not valid JSON");
  extract(Node(*view), event);
  return event;
}

}  // namespace ccmesh::worker
