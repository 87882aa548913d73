#pragma once

#include <optional>
#include <string>
#include <string_view>

// The lines the worker writes to a CLI's stdin (stream-json input), each ending in '\n'.
namespace ccmesh::worker::cli_messages {

// The request id of the `initialize` request: one per CLI process, so always the same. Its
// control_response is told from others' by it.
inline constexpr std::string_view kInitRequestId = "init_1";

// A user prompt: {"type":"user","message":{"role":"user","content":PROMPT},...}.
std::string userMessage(std::string_view prompt);

// The `initialize` control request that must precede any prompt.
std::string initializeRequest(std::string_view request_id);

// The `interrupt` control request: the running turn ends with error_during_execution.
std::string interruptRequest(std::string_view request_id);

// Live settings and what the CLI reports about itself: set_model, set_permission_mode
// ({"mode": ...}) and get_context_usage control requests.
std::string setModelRequest(std::string_view request_id, std::string_view model);
std::string setPermissionModeRequest(std::string_view request_id, std::string_view mode);
std::string contextUsageRequest(std::string_view request_id);

// Answers to the CLI's can_use_tool: allow, running the tool with `input` (a JSON object's
// text; nullopt if it is not one), or deny with `message` (the model reads it).
std::optional<std::string> allowToolResponse(std::string_view request_id, std::string_view input);
std::string denyToolResponse(std::string_view request_id, std::string_view message);

// Answer to a control request the worker does not support, so the CLI does not wait.
std::string unsupportedResponse(std::string_view request_id, std::string_view subtype);

}  // namespace ccmesh::worker::cli_messages
