#include "ccmesh/broker/broker_events.hpp"

namespace ccmesh::broker::event {
namespace {

// Each event type's name, in the order of Body's alternatives.
constexpr std::string_view kNames[] = {
    "session_registered", "session_placed",      "session_moved",     "session_state_changed",
    "session_crashed",    "session_restarted",   "session_failed",    "session_terminated",
    "worker_joined",      "worker_lost",         "worker_fenced",     "query_admitted",
    "query_delivered",    "query_finished",      "pool_created",      "pool_resized",
    "pool_deleted",       "member_checked_out",  "member_checked_in", "member_reclaimed",
    "message_refused",    "allow_lists_reloaded"};
static_assert(std::size(kNames) == std::variant_size_v<Body>, "one name per event type");

}  // namespace

std::string_view name(const Body& body) { return kNames[body.index()]; }

}  // namespace ccmesh::broker::event
