#include "monitor/worker_metrics.hpp"

namespace ccmesh::worker {

using monitoring::catchUp;
using monitoring::kShortBuckets;

// Starting a CLI takes from a fraction of a second (the mock) to several (node).
const prometheus::Histogram::BucketBoundaries kSpawnBuckets{0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                            1,    2.5,   5,    10,  30,   60};

WorkerMetrics::WorkerMetrics()
    : registry_("worker"),
      spawns_(registry_.counter("ccmesh_worker_cli_spawns_total", "CLI processes started").Add({})),
      spawn_seconds_(registry_
                         .histogram("ccmesh_worker_cli_spawn_duration_seconds",
                                    "Time from starting a CLI to its answer to initialize")
                         .Add({}, kSpawnBuckets)),
      crashes_(registry_
                   .counter("ccmesh_worker_cli_crashes_total",
                            "CLI processes that exited "
                            "unasked")
                   .Add({})),
      recycles_(registry_
                    .counter("ccmesh_worker_cli_recycles_total",
                             "CLIs restarted with their history for exceeding max_rss_mb")
                    .Add({})),
      renewals_(registry_
                    .counter("ccmesh_worker_lease_renewals_total",
                             "Acknowledgments from the broker that renewed the lease")
                    .Add({})),
      round_trip_seconds_(registry_
                              .histogram("ccmesh_worker_heartbeat_round_trip_seconds",
                                         "Time from sending a heartbeat (or ready) to the "
                                         "broker's acknowledgment of it")
                              .Add({}, kShortBuckets)),
      lapses_(registry_
                  .counter("ccmesh_worker_lease_lapses_total",
                           "Times the lease lapsed with sessions held and the worker stopped "
                           "them (self-fencing)")
                  .Add({})),
      malformed_(registry_
                     .counter("ccmesh_worker_messages_refused_total",
                              "Messages from the broker refused as malformed")
                     .Add({})),
      dropped_(registry_
                   .counter("ccmesh_worker_messages_dropped_total",
                            "Events, heartbeats and updates dropped while the link to the "
                            "broker was full")
                   .Add({})),
      reconnects_(registry_
                      .counter("ccmesh_worker_reconnects_total",
                               "Times the link to the broker was made anew")
                      .Add({})),
      registered_(registry_
                      .gauge("ccmesh_worker_registered",
                             "1 while a broker has welcomed this worker and it serves, else 0")
                      .Add({})),
      capacity_(registry_.gauge("ccmesh_worker_capacity_sessions", "Sessions this worker may host")
                    .Add({})),
      max_live_(registry_
                    .gauge("ccmesh_worker_max_live_clis",
                           "Live CLI processes allowed at once (0: capacity)")
                    .Add({})),
      rss_bytes_(registry_
                     .gauge("ccmesh_worker_cli_resident_memory_bytes",
                            "Resident memory of the live CLI processes, summed, at their last "
                            "probe")
                     .Add({})),
      queue_depth_(registry_
                       .gauge("ccmesh_worker_turn_queue_depth",
                              "Prompts in the sessions' turn queues, running ones included")
                       .Add({})),
      sessions_(registry_, "ccmesh_worker_hosted_sessions", "Sessions this worker holds, by state"),
      cli_processes_(registry_, "ccmesh_worker_cli_processes",
                     "Sessions with a live CLI process and hibernated ones") {}

void WorkerMetrics::onCliSpawned() { spawns_.Increment(); }

void WorkerMetrics::onCliReady(Seconds took) { spawn_seconds_.Observe(took.count()); }

void WorkerMetrics::onCliCrashed() { crashes_.Increment(); }

void WorkerMetrics::onCliRecycled() { recycles_.Increment(); }

void WorkerMetrics::onLeaseRenewed(Seconds round_trip) {
  renewals_.Increment();
  round_trip_seconds_.Observe(round_trip.count());
}

void WorkerMetrics::onLeaseLapsed() { lapses_.Increment(); }

void WorkerMetrics::sample(const Worker::Figures& now) {
  registered_.Set(now.readiness.ready ? 1 : 0);
  capacity_.Set(now.capacity);
  max_live_.Set(now.max_live);
  rss_bytes_.Set(static_cast<double>(now.rss_bytes));
  queue_depth_.Set(static_cast<double>(now.queued));
  std::vector<std::pair<prometheus::Labels, double>> states;
  for (const auto& [state, count] : now.states) {
    states.push_back({{{"state", state}}, static_cast<double>(count)});
  }
  sessions_.show(states);
  cli_processes_.show({{{{"state", "live"}}, static_cast<double>(now.live)},
                       {{{"state", "hibernated"}}, static_cast<double>(now.hibernated)}});
  catchUp(malformed_, now.malformed, malformed_seen_);
  catchUp(dropped_, now.dropped, dropped_seen_);
  catchUp(reconnects_, now.reconnects, reconnects_seen_);
}

}  // namespace ccmesh::worker
