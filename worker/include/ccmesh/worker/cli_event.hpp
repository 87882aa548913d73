#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ccmesh::worker {

// One line of the CLI's stdout, reduced to what the worker acts on.
struct CliEvent {
  enum class Kind {
    kIgnored,           // blank, not JSON (e.g. "[SandboxDebug] ..."), or a type we skip
    kMalformed,         // started with '{' but was not a JSON object
    kInit,              // system/init: session_id
    kTextDelta,         // stream_event content_block_delta text_delta: text
    kAssistant,         // assistant message: text = its text blocks joined
    kResult,            // result: the end of a turn
    kControlResponse,   // answer to one of our control requests
    kControlRequest,    // the CLI asks us something (can_use_tool, hook_callback, ...)
    kControlCancel,     // the CLI withdraws one of its control requests (request_id)
    kTranscriptMirror,  // --session-mirror transcript entries
  };

  Kind kind = Kind::kIgnored;
  std::string type;            // the line's `type` field as written
  std::string subtype;         // system/result subtype, or the control request/response subtype
  std::string session_id;      // init, result and most other lines
  std::string text;            // delta text, assistant text, or the result's `result` text
  bool from_subagent = false;  // parent_tool_use_id was set: a subagent's output

  // kResult
  bool is_error = false;
  bool solicited = true;  // false: `origin` says the CLI started this turn itself
  std::string errors;     // the `errors` array, joined with "; "
  // The Messages API failed the turn: its HTTP status (api_error_status), 0 if it did not.
  uint64_t api_error_status = 0;
  std::string terminal_reason;  // why the turn ended: completed, api_error, aborted_streaming...
  uint64_t duration_ms = 0;
  double cost_usd = 0;  // total_cost_usd
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
  std::string structured;  // structured_output (--json-schema) as JSON text; empty if none

  // kControlResponse / kControlRequest
  std::string request_id;
  std::string error;      // control_response error message (subtype "error")
  std::string response;   // control_response success: its `response` object's text ("{}")
  std::string tool_name;  // can_use_tool: the tool asked about
  // can_use_tool: the tool's input (JSON object text, "{}" when absent), the tool_use block's
  // id, the CLI's permission_suggestions (JSON array text, "[]" when absent) and its reason.
  std::string tool_input;
  std::string tool_use_id;
  std::string suggestions;
  std::string reason;

  // kTranscriptMirror: the entries as written (each a JSON object), and the file the CLI
  // appended them to. Entries that are not JSON objects, or longer than
  // msg::TranscriptAppend::kMaxEntryBytes, are left out and counted in bad_entries; a line
  // whose `entries` is not an array counts as one bad entry.
  std::vector<std::string> entries;
  std::string file_path;
  uint64_t bad_entries = 0;

  // kMalformed: why parsing failed (for the log)
  std::string problem;
};

}  // namespace ccmesh::worker
