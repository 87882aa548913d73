#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string>
#include <string_view>

// Tool approval (docs/PROTOCOL.md "Tool approval"): the CLI of a session started with
// permission_handler=client asks before it runs a tool; the question travels to the client
// whose query is running, and its answer travels back.
namespace ccmesh::msg {

// Values of `behavior`.
inline constexpr std::string_view kAllow = "allow";
inline constexpr std::string_view kDeny = "deny";

// `permission_request`: worker -> broker -> client, while the query `id` runs. Not a final
// reply: the query goes on, and ends as usual.
struct PermissionRequest {
  uint64_t id = 0;          // the query (the client's id; the broker's between broker and worker)
  std::string session;      // the session whose CLI asks
  std::string request;      // the question's id, to echo in permission_reply
  std::string tool_name;    // e.g. Bash, Edit, mcp__server__tool
  std::string input;        // the tool's input: a JSON object, as text
  std::string tool_use_id;  // the model's tool_use block
  std::string suggestions;  // the CLI's permission suggestions: a JSON array, as text
  std::string reason;       // why the CLI asks, if it says
  uint64_t timeout_ms = 0;  // the worker denies it when no answer came within this
  MSGPACK_DEFINE_MAP(id, session, request, tool_name, input, tool_use_id, suggestions, reason,
                     timeout_ms)
};

// `permission_reply`: client -> broker -> worker, the answer to one permission_request. A
// notification: it gets no reply of its own (a bad one gets an `error`).
struct PermissionReply {
  uint64_t id = 0;            // the query the question belongs to
  std::string request;        // the question's id
  std::string behavior;       // allow or deny
  std::string updated_input;  // allow: the input to run the tool with (a JSON object, as
                              // text); empty: as asked
  std::string message;        // deny: why; the model reads it
  std::string decided_by{};   // broker -> worker only: who answered (the client's name)
  MSGPACK_DEFINE_MAP(id, request, behavior, updated_input, message, decided_by)
};

// `permission_decision`: worker -> broker notification, for the broker's events and logs:
// how one question of a session's CLI was decided.
struct PermissionDecision {
  uint64_t id = 0;  // the query that was running (the broker's id), 0 if none
  std::string session;
  std::string request;  // the question's id
  std::string tool_name;
  std::string behavior;    // allow or deny
  std::string decided_by;  // client NAME, policy RULE, handler deny, timeout, cancelled, ...
  std::string message;     // deny: the reason given to the model
  MSGPACK_DEFINE_MAP(id, session, request, tool_name, behavior, decided_by, message)
};

}  // namespace ccmesh::msg
