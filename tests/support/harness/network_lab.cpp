#include "harness/network_lab.hpp"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "harness/process.hpp"

namespace ccmesh::test {
namespace {

// The first of `candidates` that exists, or "".
std::string findTool(std::initializer_list<const char*> candidates) {
  for (const char* path : candidates) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

std::string iptablesTool() {
  return findTool({"/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"});
}

// Namespaces left by test processes that died before cleaning up.
void removeStaleNamespaces() {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("ccf", 0) != 0) continue;
    const auto dash = name.find('-');
    if (dash == std::string::npos) continue;
    const pid_t owner = static_cast<pid_t>(std::atol(name.substr(3, dash - 3).c_str()));
    if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) {
      runCommand(NetworkLab::ipTool(), {"netns", "del", name});
    }
  }
}

}  // namespace

std::string NetworkLab::ipTool() {
  return findTool({"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"});
}

std::optional<std::string> NetworkLab::unavailableReason() {
  if (::geteuid() != 0) return "needs root to create network namespaces";
  if (ipTool().empty()) return "the ip program (iproute2) is not installed";
  if (iptablesTool().empty()) return "iptables is not installed (scripts/install-deps.sh)";
  const std::string probe = "ccf" + std::to_string(::getpid()) + "-probe";
  auto made = runCommand(ipTool(), {"netns", "add", probe});
  if (made.exit_code != 0) return "cannot create a network namespace: " + made.err;
  auto filtered = runCommand(ipTool(), {"netns", "exec", probe, iptablesTool(), "-A", "OUTPUT",
                                        "-p", "tcp", "-j", "DROP"});
  runCommand(ipTool(), {"netns", "del", probe});
  if (filtered.exit_code != 0) return "iptables does not work in a namespace: " + filtered.err;
  return std::nullopt;
}

NetworkLab::NetworkLab() : prefix_("ccf" + std::to_string(::getpid()) + "-") {
  removeStaleNamespaces();
}

NetworkLab::~NetworkLab() {
  for (const auto& name : namespaces_) runCommand(ipTool(), {"netns", "del", name});
}

void NetworkLab::run(const std::string& tool, const std::vector<std::string>& args) {
  auto result = runCommand(tool, args);
  if (result.exit_code != 0) {
    std::string line = tool;
    for (const auto& arg : args) line += " " + arg;
    throw std::runtime_error(line + " failed: " + result.err);
  }
}

std::string NetworkLab::addHost(const std::string& role) {
  const std::string name = prefix_ + role;
  runCommand(ipTool(), {"netns", "del", name});  // a leftover of this very pid
  run(ipTool(), {"netns", "add", name});
  namespaces_.push_back(name);
  run(ipTool(), {"-n", name, "link", "set", "lo", "up"});
  return name;
}

NetworkLab::Link NetworkLab::connect(const std::string& host_a, const std::string& host_b) {
  const int index = ++links_;
  Link link;
  // Root-namespace devices need names unique on the machine; the others only in their host.
  link.device_a = host_a.empty()
                      ? prefix_.substr(0, prefix_.size() - 1) + "r" + std::to_string(index)
                      : "veth" + std::to_string(index) + "a";
  link.device_b = "veth" + std::to_string(index) + "b";
  // 10.X.Y.0/30 per link; X from the pid keeps concurrent runs apart in the root namespace.
  const std::string subnet =
      "10." + std::to_string(100 + ::getpid() % 100) + "." + std::to_string(index) + ".";
  link.address_a = subnet + "1";
  link.address_b = subnet + "2";
  std::vector<std::string> add{"link", "add", link.device_a};
  if (!host_a.empty()) add.insert(add.end(), {"netns", host_a});
  add.insert(add.end(), {"type", "veth", "peer", "name", link.device_b, "netns", host_b});
  run(ipTool(), add);
  auto in = [](const std::string& host, std::vector<std::string> args) {
    if (!host.empty()) args.insert(args.begin(), {"-n", host});
    return args;
  };
  run(ipTool(), in(host_a, {"addr", "add", link.address_a + "/30", "dev", link.device_a}));
  run(ipTool(), in(host_b, {"addr", "add", link.address_b + "/30", "dev", link.device_b}));
  run(ipTool(), in(host_a, {"link", "set", link.device_a, "up"}));
  run(ipTool(), in(host_b, {"link", "set", link.device_b, "up"}));
  return link;
}

void NetworkLab::setLinkUp(const std::string& host, const std::string& device, bool up) {
  run(ipTool(), {"-n", host, "link", "set", device, up ? "up" : "down"});
}

void NetworkLab::dropOutgoing(const std::string& host, bool drop) {
  run(ipTool(), {"netns", "exec", host, iptablesTool(), drop ? "-A" : "-D", "OUTPUT", "-p", "tcp",
                 "-j", "DROP"});
}

std::vector<std::string> NetworkLab::runIn(const std::string& host) const {
  return {"netns", "exec", host};
}

}  // namespace ccmesh::test
