#include "feed/event_view.hpp"

#include <fmt/format.h>

#include <chrono>
#include <utility>

namespace ccmesh::broker {
namespace {

std::string ms(Millis value) { return std::to_string(value.count()); }
std::string yes(bool value) { return value ? "true" : "false"; }

EventView view(const event::SessionRegistered& e) {
  return {
      e.session,
      e.pool,
      fmt::format("session {} registered{}", e.session, e.adopted ? " (reported by a worker)" : ""),
      {{"session", e.session},
       {"pool", e.pool},
       {"creator", e.creator},
       {"adopted", yes(e.adopted)}}};
}
EventView view(const event::SessionPlaced& e) {
  return {
      e.session,
      {},
      fmt::format("session {} placed on {} (generation {})", e.session, e.worker, e.generation),
      {{"session", e.session}, {"worker", e.worker}, {"generation", std::to_string(e.generation)}}};
}
EventView view(const event::SessionMoved& e) {
  return {e.session,
          {},
          fmt::format("session {} moved from {} to {}{}", e.session, e.from, e.to,
                      e.requested ? " (move)" : " (failover)"),
          {{"session", e.session},
           {"from", e.from},
           {"to", e.to},
           {"generation", std::to_string(e.generation)},
           {"requested", yes(e.requested)}}};
}
EventView view(const event::SessionStateChanged& e) {
  return {e.session,
          {},
          fmt::format("session {}: {} -> {}", e.session, e.from, e.to),
          {{"session", e.session}, {"from", e.from}, {"to", e.to}}};
}
EventView view(const event::SessionCrashed& e) {
  return {e.session,
          {},
          fmt::format("session {} crashed on {}: {}", e.session, e.worker, e.reason),
          {{"session", e.session},
           {"worker", e.worker},
           {"reason", e.reason},
           {"restarts", std::to_string(e.restarts)}}};
}
EventView view(const event::SessionRestarted& e) {
  return {e.session,
          {},
          fmt::format("session {} restarted on {}{}", e.session, e.worker,
                      e.keep_history ? " (history kept)" : ""),
          {{"session", e.session}, {"worker", e.worker}, {"keep_history", yes(e.keep_history)}}};
}
EventView view(const event::SessionFailed& e) {
  return {e.session,
          {},
          fmt::format("session {} failed on {}: {}", e.session, e.worker, e.reason),
          {{"session", e.session}, {"worker", e.worker}, {"reason", e.reason}}};
}
EventView view(const event::SessionTerminated& e) {
  return {e.session,
          {},
          fmt::format("session {} gone: {}", e.session, e.reason),
          {{"session", e.session}, {"reason", e.reason}}};
}
EventView view(const event::WorkerJoined& e) {
  std::string labels;
  for (const auto& [key, value] : e.labels)
    labels += (labels.empty() ? "" : ",") + key + "=" + value;
  return {{},
          {},
          fmt::format("worker {} {} (capacity {}, {} session(s) reported)", e.worker,
                      e.again ? "registered again" : "joined", e.capacity, e.reported_sessions),
          {{"worker", e.worker},
           {"capacity", std::to_string(e.capacity)},
           {"labels", labels},
           {"again", yes(e.again)},
           {"reported_sessions", std::to_string(e.reported_sessions)}}};
}
EventView view(const event::WorkerLost& e) {
  return {{},
          {},
          fmt::format("worker {} lost ({}): {} session(s) move", e.worker, e.reason, e.sessions),
          {{"worker", e.worker},
           {"cause", std::string(event::causeName(e.cause))},
           {"reason", e.reason},
           {"sessions", std::to_string(e.sessions)}}};
}
EventView view(const event::WorkerFenced& e) {
  return {
      e.session,
      {},
      fmt::format("worker {} told to stop its stale copy of {} (generation {})", e.worker,
                  e.session, e.generation),
      {{"worker", e.worker}, {"session", e.session}, {"generation", std::to_string(e.generation)}}};
}
EventView view(const event::QueryAdmitted& e) {
  return {e.session,
          e.pool,
          fmt::format("query {} for {} admitted", e.request, e.session),
          {{"request", std::to_string(e.request)}, {"session", e.session}, {"pool", e.pool}}};
}
EventView view(const event::QueryDelivered& e) {
  return {e.session,
          {},
          fmt::format("query {} delivered to {} on {}", e.request, e.session, e.worker),
          {{"request", std::to_string(e.request)}, {"session", e.session}, {"worker", e.worker}}};
}
EventView view(const event::PermissionAsked& e) {
  return {e.session,
          e.pool,
          fmt::format("query {} asks its client whether {} may run on {}", e.request, e.tool,
                      e.session),
          {{"request", std::to_string(e.request)},
           {"session", e.session},
           {"pool", e.pool},
           {"worker", e.worker},
           {"tool", e.tool},
           {"question", e.question}}};
}
EventView view(const event::BudgetChanged& e) {
  return {e.kind == "session" ? e.name : std::string(),
          e.kind == "pool" ? e.name : std::string(),
          fmt::format("budget of {} {}: {:.4f} USD, {:.4f} USD spent{}", e.kind, e.name,
                      e.budget_usd, e.spent_usd, e.reset ? " (counted from zero again)" : ""),
          {{"name", e.name},
           {"kind", e.kind},
           {"budget_usd", fmt::format("{}", e.budget_usd)},
           {"spent_usd", fmt::format("{}", e.spent_usd)},
           {"reset", yes(e.reset)}}};
}
EventView view(const event::BudgetExhausted& e) {
  return {e.session, e.pool, e.why, {{"session", e.session}, {"pool", e.pool}, {"why", e.why}}};
}
EventView view(const event::PermissionDecided& e) {
  EventView shown{
      e.session,
      {},
      fmt::format("{} {} on {} (query {}), decided by {}", e.allowed ? "allowed" : "denied", e.tool,
                  e.session, e.request, e.decided_by),
      {{"request", std::to_string(e.request)},
       {"session", e.session},
       {"worker", e.worker},
       {"tool", e.tool},
       {"question", e.question},
       {"behavior", e.allowed ? "allow" : "deny"},
       {"decided_by", e.decided_by}}};
  if (!e.allowed) shown.fields["message"] = e.message;
  return shown;
}
EventView view(const event::QueryFinished& e) {
  EventView shown{e.session,
                  e.pool,
                  fmt::format("query {} for {} finished: {} in {} ms", e.request, e.session,
                              e.outcome, e.duration.count()),
                  {{"request", std::to_string(e.request)},
                   {"session", e.session},
                   {"pool", e.pool},
                   {"worker", e.worker},
                   {"model", e.model},
                   {"outcome", e.outcome},
                   {"duration_ms", ms(e.duration)},
                   {"cost_usd", fmt::format("{}", e.cost_usd)},
                   {"input_tokens", std::to_string(e.input_tokens)},
                   {"output_tokens", std::to_string(e.output_tokens)}}};
  if (e.time_to_first_delta) shown.fields["first_delta_ms"] = ms(*e.time_to_first_delta);
  return shown;
}
EventView view(const event::PoolCreated& e) {
  return {{},
          e.pool,
          fmt::format("pool {} created ({} member(s))", e.pool, e.size),
          {{"pool", e.pool}, {"size", std::to_string(e.size)}, {"owned", yes(e.owned)}}};
}
EventView view(const event::PoolResized& e) {
  return {{},
          e.pool,
          fmt::format("pool {} resized from {} to {}", e.pool, e.from, e.to),
          {{"pool", e.pool}, {"from", std::to_string(e.from)}, {"to", std::to_string(e.to)}}};
}
EventView view(const event::PoolDeleted& e) {
  return {{}, e.pool, fmt::format("pool {} deleted", e.pool), {{"pool", e.pool}}};
}
EventView view(const event::MemberCheckedOut& e) {
  return {e.member,
          e.pool,
          fmt::format("{} of pool {} checked out (lease {}, {} ms)", e.member, e.pool, e.lease_id,
                      e.lease.count()),
          {{"pool", e.pool},
           {"member", e.member},
           {"lease_id", std::to_string(e.lease_id)},
           {"lease_ms", ms(e.lease)}}};
}
EventView view(const event::MemberCheckedIn& e) {
  return {e.member,
          e.pool,
          fmt::format("{} of pool {} checked in", e.member, e.pool),
          {{"pool", e.pool}, {"member", e.member}}};
}
EventView view(const event::MemberReclaimed& e) {
  return {e.member,
          e.pool,
          fmt::format("{} of pool {} reclaimed: its lease lapsed", e.member, e.pool),
          {{"pool", e.pool}, {"member", e.member}}};
}
EventView view(const event::MessageRefused& e) {
  return {{},
          {},
          fmt::format("a {} message from {} refused", event::refusalName(e.kind), e.peer),
          {{"kind", std::string(event::refusalName(e.kind))}, {"peer", e.peer}}};
}
EventView view(const event::AllowListsReloaded& e) {
  return {{},
          {},
          e.ok ? "allow-lists reloaded" : "allow-lists NOT reloaded (a file did not parse)",
          {{"ok", yes(e.ok)}}};
}

}  // namespace

EventView viewOf(const event::Body& body) {
  return std::visit([](const auto& e) { return view(e); }, body);
}

msg::FeedEvent feedEventOf(const BrokerEvent& event, EventView view) {
  const auto time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  return msg::FeedEvent{0,
                        event.seq,
                        std::string(event::name(event.body)),
                        std::move(view.text),
                        static_cast<uint64_t>(time_ms),
                        std::move(view.fields)};
}

}  // namespace ccmesh::broker
