#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ccmesh/client/client.hpp"
#include "harness/process.hpp"
#include "harness/wait_for.hpp"

namespace ccmesh::test {

// A real broker on wildcard loopback ports plus any number of real workers, each with its
// own HOME and CLAUDE_CONFIG_DIR, all in one temporary directory. Everything stops when the
// object goes away.
class Cluster {
 public:
  // Starts the broker (extra arguments appended) and waits until its ports are bound.
  explicit Cluster(std::vector<std::string> broker_args = {});

  // Starts a worker with the mock CLI and waits until the broker lists it.
  Process& startWorker(const std::string& id, std::vector<std::string> args = {});
  // startWorker with its HTTP endpoint on a free loopback port: returns its URL.
  std::string startWorkerWithHttp(const std::string& id, std::vector<std::string> args = {});
  // Starts a worker without waiting for it to join.
  Process& spawnWorker(const std::string& id, std::vector<std::string> args = {});
  // Starts a worker with worker id `id`, kept under the name `label` (so that a second
  // process may claim an id already in use), without waiting for it to join.
  Process& spawnWorkerAs(const std::string& label, const std::string& id,
                         std::vector<std::string> args = {});
  Process& worker(const std::string& id) { return *workers_.at(id); }
  void removeWorker(const std::string& id) { workers_.erase(id); }
  Process& broker() { return *broker_; }
  // Starts a new broker on the same (resolved) endpoints, with the same arguments, after
  // killing the current one with SIGKILL if it still runs; waits until it is bound.
  void restartBroker();
  // The same with other extra arguments (kept for later restarts), run through `launcher`
  // (e.g. {"prlimit", "--fsize=4096", "--"}; empty: the broker itself).
  void restartBroker(std::vector<std::string> broker_args, std::vector<std::string> launcher = {});

  // Waits until the broker's status lists exactly these many workers.
  bool waitForWorkers(size_t count);

  // A client of the frontend with the given default deadline.
  std::unique_ptr<client::Client> client(Millis timeout = kEventDeadline) const;

  const std::string& frontend() const { return frontend_; }
  const std::string& backend() const { return backend_; }
  // The broker's HTTP endpoint (http://127.0.0.1:PORT; empty if the test turned it off).
  const std::string& http() const { return http_; }
  const std::string& dir() const { return dir_.path(); }
  // The HOME of a worker's sessions (their transcripts live under it).
  std::string homeOf(const std::string& worker_id) const;

  // Logs of every process (every broker run included), for failure messages.
  std::string logs() const;

 private:
  TempDir dir_;  // holds logs and homes
  // Starts the broker on `frontend` / `backend` (wildcards allowed) and waits for its ports.
  void launchBroker(const std::string& frontend, const std::string& backend);
  // The file of broker run `run` (1: the first) with this extension, in dir().
  std::string brokerFile(int run, const char* extension) const;

  std::vector<std::string> broker_args_;                     // extra broker arguments
  std::vector<std::string> launcher_;                        // runs the broker, if any
  int broker_runs_ = 0;                                      // brokers started so far
  std::unique_ptr<Process> broker_;                          // the broker process
  std::map<std::string, std::unique_ptr<Process>> workers_;  // worker id -> process
  std::string frontend_;                                     // resolved client endpoint
  std::string backend_;                                      // resolved worker endpoint
  std::string http_;                                         // the broker's HTTP URL
};

}  // namespace ccmesh::test
