#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ccmesh/client/client.hpp"
#include "ccmesh/common/codec.hpp"
#include "harness/etcd_server.hpp"
#include "harness/process.hpp"
#include "harness/ready_file.hpp"

namespace ccmesh::test {

// What one broker answers a `status` (id 7) on its own, not followed anywhere: its
// envelope, or nothing within `wait`.
std::optional<Envelope> askStatusAlone(const std::string& frontend, Millis wait);

// The timing every broker of an HaCluster runs with. The defaults: leases of 1 s,
// heartbeats of 200 ms and a worker lease of 15 heartbeats (3 s), longer than a leader change
// takes (docs/OPERATIONS.md "High availability": the timing rule).
struct HaTiming {
  int ttl_ms = 1000;
  int heartbeat_ms = 200;
  int liveness = 15;
  std::string log_level = "debug";  // of brokers and workers
};

// An etcd, brokers of one HA cluster (--ha-etcd) and workers that know every broker, all
// real processes in one temporary directory; everything stops with the object.
class HaCluster {
 public:
  explicit HaCluster(EtcdPlacement etcd = {}, HaTiming timing = {});
  ~HaCluster();

  // Starts broker `name` (on wildcard ports, or on the ports it had before) and waits until
  // it is bound. It reaches etcd at `etcd_url` (default: etcd().url(); a restart keeps the
  // one it had).
  void startBroker(const std::string& name, const std::string& etcd_url = "");
  Process& broker(const std::string& name) { return *brokers_.at(name); }
  const BrokerEndpoints& endpoints(const std::string& name) const { return endpoints_.at(name); }
  // Every broker's frontend (backend), comma-separated, in start order.
  std::string frontends() const;
  std::string backends() const;

  // Starts worker `id` with --broker set to every backend and `extra` arguments; does not
  // wait for it to join.
  Process& startWorker(const std::string& id, const std::vector<std::string>& extra = {});
  Process& worker(const std::string& id) { return *workers_.at(id); }

  // A client of every frontend.
  std::unique_ptr<client::Client> client(Millis timeout = Millis(20000)) const;
  // A client of one broker only.
  std::unique_ptr<client::Client> clientOf(const std::string& name,
                                           Millis timeout = Millis(5000)) const;
  // The name of the broker that serves now (its status says leader), if one does.
  std::optional<std::string> leader() const;
  // Waits until a leader serves and `workers` workers are registered with it; its name.
  std::string waitForLeader(std::size_t workers = 0) const;

  EtcdServer& etcd() { return *etcd_; }
  const std::string& dir() const { return dir_.path(); }
  std::string logs() const;

 private:
  HaTiming timing_;
  TempDir dir_;
  std::unique_ptr<EtcdServer> etcd_;
  std::vector<std::string> order_;  // broker names in start order
  std::map<std::string, std::unique_ptr<Process>> brokers_;
  std::map<std::string, BrokerEndpoints> endpoints_;
  std::map<std::string, int> runs_;               // broker name -> starts so far
  std::map<std::string, std::string> etcd_urls_;  // broker name -> where it reaches etcd
  std::map<std::string, std::unique_ptr<Process>> workers_;
};

}  // namespace ccmesh::test
