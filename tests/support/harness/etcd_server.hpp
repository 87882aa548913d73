#pragma once

#include <memory>
#include <string>
#include <vector>

#include "harness/process.hpp"

namespace ccmesh::test {

// Where an EtcdServer runs: by default here, on 127.0.0.1; or inside a network namespace,
// listening on several of its addresses (one per link, so that a test can cut one broker
// off).
struct EtcdPlacement {
  std::vector<std::string> run_in;                  // argv before etcd's (ip netns exec HOST)
  std::vector<std::string> addresses{"127.0.0.1"};  // it listens on each
};

// A one-member etcd (the Debian etcd-server package's `etcd`) on free loopback ports with a
// data directory of its own, for tests of leader election. Tuned for tests: a 10 ms raft
// heartbeat and a 100 ms election timeout, so its shortest lease is 1 s. Stopped with the
// object. Throws std::runtime_error if etcd is missing or does not come up.
class EtcdServer {
 public:
  explicit EtcdServer(const std::string& dir, EtcdPlacement placement = {});
  ~EtcdServer();

  // http://ADDRESS:PORT of the first address, where clients (brokers) talk to it.
  const std::string& url() const { return url_; }
  // The same at another of its addresses.
  std::string urlAt(const std::string& address) const;
  // kill -9, and start again on the same ports and data.
  void kill();
  void start();
  bool running() const { return process_ != nullptr && process_->running(); }
  pid_t pid() const { return process_ ? process_->pid() : -1; }

 private:
  std::string dir_;
  EtcdPlacement placement_;
  int client_port_ = 0;
  int peer_port_ = 0;
  std::string url_;
  int runs_ = 0;
  std::unique_ptr<Process> process_;
};

// A TCP port of 127.0.0.1 that nobody listens on right now (the kernel's pick).
int freeLoopbackPort();

}  // namespace ccmesh::test
