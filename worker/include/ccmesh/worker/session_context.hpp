#pragma once

#include <spdlog/logger.h>

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/worker/cli_command.hpp"
#include "ccmesh/worker/line_reader.hpp"
#include "ccmesh/worker/option_policy.hpp"
#include "ccmesh/worker/worker_meter.hpp"

namespace ccmesh::worker {

// What every session of a worker shares: the worker's identity, how CLIs are started, its
// defaults and its clock.
struct SessionContext {
  std::string worker_id;                        // reported in results and acks
  CliSettings cli;                              // program, extra args and env
  std::map<std::string, std::string> base_env;  // the environment CLIs inherit
  std::size_t queue_depth = 16;                 // prompts waiting besides the running one
  Millis query_timeout{300000};                 // deadline when neither query nor options set one
  Millis stop_grace{5000};                      // stdin closed -> SIGTERM
  Millis interrupt_grace{2000};                 // interrupt -> restart if no result came
  Millis initialize_timeout{60000};             // spawn -> initialize answered, else restart
  Millis restart_backoff_min{100};              // first restart delay after a crash
  Millis restart_backoff_max{5000};             // longest restart delay
  Millis idle_timeout{0};           // idle this long -> hibernated, unless options say (0: never)
  Millis rss_probe_interval{1000};  // how often a live CLI's resident memory is read
  Millis delta_window{2};           // least time between two `event`s of a query (0: none)
  std::size_t max_line_bytes = LineReader::kDefaultMaxLineBytes;  // longest stdout line
  std::size_t transcript_retain_bytes = 16u << 20;  // per session: mirrored entries kept
                                                    // until the broker acknowledges them
  const Clock* clock = nullptr;                     // where time comes from
  std::shared_ptr<spdlog::logger> log;              // the worker's logger
  WorkerMeter* meter = &WorkerMeter::none();        // counts spawns, crashes, recycles
  // What session options may widen on this worker.
  OptionPolicy policy;
};

}  // namespace ccmesh::worker
