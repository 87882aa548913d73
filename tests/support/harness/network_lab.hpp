#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ccmesh::test {

// Hosts made of network namespaces and joined by veth pairs, so that a test can cut the
// link between a broker and a worker (or only one direction of it) the way a network
// would. Needs root (CAP_NET_ADMIN); unavailableReason() says why it cannot run here.
// Every name carries this process's pid; the lab deletes its namespaces (and with them
// their veths) when it goes away, and deletes those of dead test processes when it starts.
class NetworkLab {
 public:
  // Why namespaces cannot be made here, or nothing if they can.
  static std::optional<std::string> unavailableReason();

  // One end of a point-to-point link.
  struct Link {
    std::string address_a;  // IPv4 address of the first host's end
    std::string address_b;  // IPv4 address of the second host's end
    std::string device_a;   // the first host's veth
    std::string device_b;   // the second host's veth
  };

  NetworkLab();
  ~NetworkLab();
  NetworkLab(const NetworkLab&) = delete;
  NetworkLab& operator=(const NetworkLab&) = delete;

  // Creates a host (a namespace with loopback up); returns its namespace name.
  std::string addHost(const std::string& role);
  // Joins two hosts with a veth pair on a fresh /30; "" as `host_a` is this test's own
  // (root) namespace.
  Link connect(const std::string& host_a, const std::string& host_b);

  // Takes a host's veth down or up (both directions cut).
  void setLinkUp(const std::string& host, const std::string& device, bool up);
  // Drops (or stops dropping) every TCP packet `host` sends: one direction cut.
  void dropOutgoing(const std::string& host, bool drop);

  // The argv prefix that runs a program inside `host` (`ip netns exec HOST`); the program
  // path comes after it.
  std::vector<std::string> runIn(const std::string& host) const;
  // Path of the `ip` program.
  static std::string ipTool();

 private:
  // Runs `ip ARGS` (or another tool); throws with its stderr when it fails.
  static void run(const std::string& tool, const std::vector<std::string>& args);

  std::string prefix_;                   // "ccf<pid>-"
  std::vector<std::string> namespaces_;  // created, deleted at the end
  int links_ = 0;                        // links made: numbers their subnets
};

}  // namespace ccmesh::test
