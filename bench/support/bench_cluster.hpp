#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ccmesh/client/client.hpp"
#include "harness/process.hpp"

namespace ccmesh::bench {

// A real broker on wildcard loopback ports and real workers running the mock CLI, each
// process logging at `warn` into one temporary directory, all stopped when this goes away.
// Unlike the tests' Cluster it lets a benchmark set every option of every process, and runs
// the broker (workers) behind the command in CCMESH_BENCH_BROKER_PREFIX
// (CCMESH_BENCH_WORKER_PREFIX) when set, e.g. "valgrind --tool=callgrind", for profiling.
class BenchCluster {
 public:
  // Starts the broker with `broker_args` appended and waits until its ports are bound.
  explicit BenchCluster(std::vector<std::string> broker_args = {});

  // Starts a worker with `args` appended and waits until the broker lists it.
  test::Process& startWorker(const std::string& id, std::vector<std::string> args = {});
  test::Process& worker(const std::string& id) { return *workers_.at(id); }
  test::Process& broker() { return *broker_; }

  // Starts these sessions and waits until every one is idle; throws if one is not within
  // the deadline.
  void startSessions(const std::vector<std::string>& names);

  // A client of the frontend.
  std::unique_ptr<client::Client> client(Millis timeout = Millis(30000)) const;

  const std::string& frontend() const { return frontend_; }
  const std::string& backend() const { return backend_; }
  // The broker's HTTP endpoint (empty with --http '').
  const std::string& http() const { return http_; }
  const std::string& dir() const { return dir_.path(); }

 private:
  test::TempDir dir_;                                              // logs and homes
  std::unique_ptr<test::Process> broker_;                          // the broker
  std::map<std::string, std::unique_ptr<test::Process>> workers_;  // worker id -> process
  std::string frontend_;                                           // resolved client endpoint
  std::string backend_;                                            // resolved worker endpoint
  std::string http_;                                               // HTTP URL, if any
};

}  // namespace ccmesh::bench
