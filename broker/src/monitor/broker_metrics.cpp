#include "monitor/broker_metrics.hpp"

namespace ccmesh::broker {
namespace {

using monitoring::catchUp;
using monitoring::kQueryBuckets;
using monitoring::kShortBuckets;
using monitoring::seconds;

// A session state that means it answers again after a failover.
bool answers(const std::string& state) {
  return state == "idle" || state == "busy" || state == "hibernated";
}

}  // namespace

BrokerMetrics::BrokerMetrics()
    : registry_("broker"),
      events_(
          registry_.counter("ccmesh_broker_events_total", "Changes the broker announced, by type")),
      queries_(registry_.counter(
          "ccmesh_queries_total",
          "Queries (session and pool) that ended, by outcome: ok or the error code")),
      pool_queries_(registry_.counter("ccmesh_pool_queries_total",
                                      "Pool queries that ended, by pool and outcome")),
      query_seconds_(registry_.histogram("ccmesh_query_duration_seconds",
                                         "Time from a query's acceptance to its end")),
      first_delta_seconds_(
          registry_.histogram("ccmesh_query_first_delta_seconds",
                              "Time from a query's acceptance to its first streamed delta")),
      cost_usd_(
          registry_.counter("ccmesh_cost_usd_total",
                            "Cost the CLI reported for finished turns, by the session's model")),
      tokens_(
          registry_.counter("ccmesh_tokens_total",
                            "Tokens the CLI reported for finished turns, by model and direction")),
      workers_joined_(registry_.counter("ccmesh_workers_joined_total", "Worker registrations")),
      workers_lost_(
          registry_.counter("ccmesh_workers_lost_total", "Workers declared dead, by cause")),
      moved_(registry_.counter(
          "ccmesh_sessions_moved_total",
          "Sessions placed on another worker: by failover or by a requested move")),
      failover_seconds_(
          registry_.histogram("ccmesh_failover_duration_seconds",
                              "Time from a worker's loss to each of its sessions answering on "
                              "another worker")),
      restarts_(
          registry_.counter("ccmesh_session_restarts_total", "Session restarts clients asked for")),
      crashes_(
          registry_.counter("ccmesh_session_crashes_total", "CLI processes that exited unasked")),
      failed_(registry_.counter("ccmesh_sessions_failed_total", "Sessions that became FAILED")),
      fenced_(registry_.counter("ccmesh_fenced_copies_total",
                                "Stale copies of a session a worker was told to stop")),
      refused_(registry_.counter(
          "ccmesh_messages_refused_total",
          "Messages refused, by reason: malformed, stale (fencing), unauthorized, "
          "worker_id_refused, handshake_refused")),
      checkouts_(registry_.counter("ccmesh_pool_checkouts_total", "Pool members checked out")),
      checkins_(registry_.counter("ccmesh_pool_checkins_total", "Pool members checked back in")),
      reclaims_(registry_.counter("ccmesh_pool_reclaims_total", "Checkouts whose lease lapsed")),
      exhausted_(registry_.counter("ccmesh_pool_exhausted_total",
                                   "Pool queries and checkouts answered pool_exhausted")),
      transcript_evictions_(
          registry_.counter("ccmesh_transcript_evictions_total",
                            "Transcripts that left memory for --transcript-total-bytes")),
      transcript_write_errors_(registry_.counter("ccmesh_transcript_write_errors_total",
                                                 "Failed writes of transcripts to --data-dir")),
      dropped_(
          registry_.counter("ccmesh_client_messages_dropped_total",
                            "Messages to clients that did not read: events (streamed deltas) and "
                            "final replies")),
      requests_in_flight_(
          registry_.gauge("ccmesh_requests_in_flight", "Client requests the broker holds")),
      workers_connected_(
          registry_.gauge("ccmesh_workers_connected", "Workers registered and alive")),
      transcript_bytes_(registry_.gauge("ccmesh_transcript_bytes",
                                        "Transcript bytes the broker holds in memory")),
      watchers_(registry_.gauge("ccmesh_watchers", "Clients running `watch`")),
      sessions_(registry_, "ccmesh_sessions", "Sessions by state"),
      cli_processes_(registry_, "ccmesh_cli_processes",
                     "Sessions with a live CLI process and hibernated "
                     "ones, per worker, as of its last load report"),
      worker_capacity_(registry_, "ccmesh_worker_capacity", "Sessions a worker may host"),
      worker_sessions_(registry_, "ccmesh_worker_sessions", "Sessions placed on a worker"),
      heartbeat_age_(registry_, "ccmesh_worker_heartbeat_age_seconds",
                     "Time since the broker last heard from a worker"),
      pool_members_(registry_, "ccmesh_pool_members", "Members of a pool"),
      pool_checked_out_(registry_, "ccmesh_pool_checked_out", "Members of a pool checked out now") {
  events_by_type_.resize(std::variant_size_v<event::Body>, nullptr);
  // Present from the start, so a rate() sees the first query.
  queries_ok_ = &queries_.Add({{"outcome", "ok"}});
  query_seconds_all_ = &query_seconds_.Add({}, kQueryBuckets);
  first_delta_seconds_all_ = &first_delta_seconds_.Add({}, kShortBuckets);
  workers_lost_.Add({{"cause", "silence"}});
  workers_lost_.Add({{"cause", "disconnect"}});
  dropped_.Add({{"kind", "event"}});
  dropped_.Add({{"kind", "reply"}});
}

BrokerMetrics::~BrokerMetrics() = default;

void BrokerMetrics::onEvent(const BrokerEvent& event) {
  auto*& by_type = events_by_type_[event.body.index()];
  if (by_type == nullptr) by_type = &events_.Add({{"type", std::string(event::name(event.body))}});
  by_type->Increment();
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, event::QueryFinished>) {
          (e.outcome == "ok" ? *queries_ok_ : queries_.Add({{"outcome", e.outcome}})).Increment();
          if (!e.pool.empty())
            pool_queries_.Add({{"pool", e.pool}, {"outcome", e.outcome}}).Increment();
          query_seconds_all_->Observe(seconds(e.duration));
          if (e.time_to_first_delta) {
            first_delta_seconds_all_->Observe(seconds(*e.time_to_first_delta));
          }
          const std::string model = e.model.empty() ? "default" : e.model;
          if (e.cost_usd > 0) cost_usd_.Add({{"model", model}}).Increment(e.cost_usd);
          if (e.input_tokens > 0) {
            tokens_.Add({{"model", model}, {"direction", "input"}})
                .Increment(static_cast<double>(e.input_tokens));
          }
          if (e.output_tokens > 0) {
            tokens_.Add({{"model", model}, {"direction", "output"}})
                .Increment(static_cast<double>(e.output_tokens));
          }
        } else if constexpr (std::is_same_v<T, event::WorkerJoined>) {
          workers_joined_.Add({}).Increment();
          worker_lost_at_.erase(e.worker);
        } else if constexpr (std::is_same_v<T, event::WorkerLost>) {
          workers_lost_.Add({{"cause", std::string(event::causeName(e.cause))}}).Increment();
          worker_lost_at_[e.worker] = event.at;
        } else if constexpr (std::is_same_v<T, event::SessionMoved>) {
          moved_.Add({{"why", e.requested ? "move" : "failover"}}).Increment();
          const auto lost = worker_lost_at_.find(e.from);
          if (!e.requested && lost != worker_lost_at_.end())
            failing_over_[e.session] = lost->second;
        } else if constexpr (std::is_same_v<T, event::SessionStateChanged>) {
          const auto lost = failing_over_.find(e.session);
          if (lost != failing_over_.end() && answers(e.to)) {
            failover_seconds_.Add({}, kShortBuckets)
                .Observe(seconds(std::chrono::duration_cast<Millis>(event.at - lost->second)));
            failing_over_.erase(lost);
          }
        } else if constexpr (std::is_same_v<T, event::SessionRestarted>) {
          restarts_.Add({}).Increment();
        } else if constexpr (std::is_same_v<T, event::SessionCrashed>) {
          crashes_.Add({}).Increment();
        } else if constexpr (std::is_same_v<T, event::SessionFailed>) {
          failed_.Add({}).Increment();
          failing_over_.erase(e.session);
        } else if constexpr (std::is_same_v<T, event::SessionTerminated>) {
          failing_over_.erase(e.session);
        } else if constexpr (std::is_same_v<T, event::WorkerFenced>) {
          fenced_.Add({}).Increment();
        } else if constexpr (std::is_same_v<T, event::MessageRefused>) {
          refused_.Add({{"reason", std::string(event::refusalName(e.kind))}}).Increment();
        } else if constexpr (std::is_same_v<T, event::MemberCheckedOut>) {
          checkouts_.Add({{"pool", e.pool}}).Increment();
        } else if constexpr (std::is_same_v<T, event::MemberCheckedIn>) {
          checkins_.Add({{"pool", e.pool}}).Increment();
        } else if constexpr (std::is_same_v<T, event::MemberReclaimed>) {
          reclaims_.Add({{"pool", e.pool}}).Increment();
        }
      },
      event.body);
}

void BrokerMetrics::sample(const Sample& now) {
  const auto& status = now.status;
  requests_in_flight_.Add({}).Set(static_cast<double>(status.requests_in_flight));
  workers_connected_.Add({}).Set(static_cast<double>(status.workers.size()));
  transcript_bytes_.Add({}).Set(static_cast<double>(status.transcript_bytes));
  watchers_.Add({}).Set(static_cast<double>(now.watchers));
  std::vector<std::pair<prometheus::Labels, double>> states;
  for (const auto& [state, count] : now.states) {
    states.push_back({{{"state", state}}, static_cast<double>(count)});
  }
  sessions_.show(states);
  std::vector<std::pair<prometheus::Labels, double>> clis, capacity, placed, age;
  for (const auto& worker : status.workers) {
    clis.push_back({{{"worker", worker.id}, {"state", "live"}}, static_cast<double>(worker.live)});
    clis.push_back(
        {{{"worker", worker.id}, {"state", "hibernated"}}, static_cast<double>(worker.hibernated)});
    capacity.push_back({{{"worker", worker.id}}, static_cast<double>(worker.capacity)});
    placed.push_back({{{"worker", worker.id}}, static_cast<double>(worker.sessions)});
    age.push_back({{{"worker", worker.id}}, static_cast<double>(worker.heartbeat_age_ms) / 1000.0});
  }
  cli_processes_.show(clis);
  worker_capacity_.show(capacity);
  worker_sessions_.show(placed);
  heartbeat_age_.show(age);
  std::vector<std::pair<prometheus::Labels, double>> members, checked_out;
  for (const auto& pool : now.pools) {
    members.push_back({{{"pool", pool.name}}, static_cast<double>(pool.size)});
    checked_out.push_back({{{"pool", pool.name}}, static_cast<double>(pool.checked_out)});
    catchUp(exhausted_.Add({{"pool", pool.name}}), pool.exhausted, exhausted_seen_[pool.name]);
  }
  pool_members_.show(members);
  pool_checked_out_.show(checked_out);
  catchUp(transcript_evictions_.Add({}), status.transcript_evictions, evictions_seen_);
  catchUp(transcript_write_errors_.Add({}), status.transcript_write_errors, write_errors_seen_);
  catchUp(dropped_.Add({{"kind", "event"}}), now.stats.dropped_events, dropped_events_seen_);
  catchUp(dropped_.Add({{"kind", "reply"}}), now.stats.dropped_replies, dropped_replies_seen_);
}

std::string BrokerMetrics::render() const { return registry_.render(); }

}  // namespace ccmesh::broker
