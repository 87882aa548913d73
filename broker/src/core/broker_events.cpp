#include "ccmesh/broker/broker_events.hpp"

namespace ccmesh::broker::event {
namespace {

// Each event type's name, in the order of Body's alternatives.
constexpr std::string_view kNames[] = {
    "session_registered", "session_placed",       "session_moved",     "session_state_changed",
    "session_crashed",    "session_restarted",    "session_failed",    "session_terminated",
    "worker_joined",      "worker_lost",          "worker_fenced",     "query_admitted",
    "query_delivered",    "query_finished",       "pool_created",      "pool_resized",
    "pool_deleted",       "member_checked_out",   "member_checked_in", "member_reclaimed",
    "message_refused",    "allow_lists_reloaded", "permission_asked",  "permission_decided",
    "budget_changed",     "budget_exhausted"};
static_assert(std::size(kNames) == std::variant_size_v<Body>, "one name per event type");

}  // namespace

std::string_view name(const Body& body) { return kNames[body.index()]; }

std::string_view refusalName(Refusal kind) {
  switch (kind) {
    case Refusal::kMalformed:
      return "malformed";
    case Refusal::kStale:
      return "stale";
    case Refusal::kUnauthorized:
      return "unauthorized";
    case Refusal::kWorkerIdRefused:
      return "worker_id_refused";
    case Refusal::kHandshakeRefused:
      return "handshake_refused";
  }
  return "unknown";
}

std::string_view causeName(LossCause cause) {
  switch (cause) {
    case LossCause::kSilence:
      return "silence";
    case LossCause::kDisconnect:
      return "disconnect";
    case LossCause::kStalled:
      return "stalled";
    case LossCause::kBye:
      return "bye";
    case LossCause::kReplaced:
      return "replaced";
    case LossCause::kUnauthorized:
      return "unauthorized";
  }
  return "unknown";
}

}  // namespace ccmesh::broker::event
