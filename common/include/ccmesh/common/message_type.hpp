#pragma once

#include <optional>
#include <string_view>

namespace ccmesh {

// The second frame of every ccmesh message. Wire names (messageTypeName) are lowercase
// ASCII; docs/PROTOCOL.md lists which direction each one travels.
enum class MessageType {
  // client -> broker requests (each ends with exactly one `result` or `error`)
  kQuery,
  kStart,
  kTerminate,
  kRestart,
  kInfo,
  kList,
  kCount,
  kStatus,
  kPing,
  kMove,        // move a session to another worker (admin)
  kTranscript,  // read a session's transcript as the broker keeps it
  kWatch,       // stream the broker's events (ends only by cancel, or when cut off)
  kSet,         // change a session's model or permission mode between turns (admin)
  kContext,     // a session's context usage, as its CLI reports it
  kUsage,       // what sessions, pools, workers or models have used (cost, tokens, turns)
  kBudget,      // read or change a session's or pool's cluster-side budget (admin);
                // broker -> worker: the new budget of a session it hosts
  // client -> broker pool requests (docs/PROTOCOL.md "Pools")
  kPoolCreate,
  kPoolQuery,
  kPoolCheckout,
  kPoolCheckin,
  kPoolList,
  kPoolInfo,
  kPoolResize,
  kPoolDelete,
  // client -> broker, broker -> worker notification: stop a request in flight
  kCancel,
  // client -> broker, broker -> worker notification: the answer to a permission_request
  kPermissionReply,
  // worker -> broker -> client: the CLI asks whether a tool may run (docs/PROTOCOL.md
  // "Tool approval")
  kPermissionRequest,
  // worker -> broker notification: how a permission request was decided, and by whom
  kPermissionDecision,
  // replies (broker -> client, worker -> broker)
  kEvent,
  kResult,
  kError,
  // worker -> broker
  kReady,
  kHeartbeat,  // both directions
  kSessionUpdate,
  kDelivered,
  kBye,
  kLoad,              // live and hibernated session counts
  kTranscriptAppend,  // transcript entries the CLI mirrored
  kTranscriptFetch,   // the broker's copy of a conversation, to resume from
  // broker -> worker
  kWelcome,
  kAssign,
  kRejoin,          // the broker does not know this worker: send `ready` again
  kTranscriptAck,   // transcript entries stored up to a position
  kTranscriptSeed,  // answer to transcript_fetch
};

std::string_view messageTypeName(MessageType type);
std::optional<MessageType> parseMessageType(std::string_view name);

// Client requests that only read the broker's state (info, transcript, list, count, status,
// pool_list, pool_info): answered at once, never held in flight, safe to send twice.
bool isReadOnly(MessageType type);

}  // namespace ccmesh
