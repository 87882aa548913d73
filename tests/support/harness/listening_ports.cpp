#include "harness/listening_ports.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace ccmesh::test {
namespace {

constexpr const char* kListen = "0A";  // TCP_LISTEN in /proc/net/tcp's `st` column

// The inodes of the sockets `pid` has open.
std::set<std::string> socketInodes(pid_t pid) {
  std::set<std::string> inodes;
  std::error_code error;
  const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(fds, error)) {
    const std::string target = std::filesystem::read_symlink(entry.path(), error).string();
    if (!error && target.rfind("socket:[", 0) == 0) {
      inodes.insert(target.substr(8, target.size() - 9));
    }
  }
  return inodes;
}

}  // namespace

std::vector<int> listeningPorts(pid_t pid) {
  const std::set<std::string> inodes = socketInodes(pid);
  std::vector<int> ports;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream file(table);
    std::string line;
    std::getline(file, line);  // the header
    while (std::getline(file, line)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      if (state != kListen || inodes.count(inode) == 0) continue;
      const auto colon = local.rfind(':');
      if (colon != std::string::npos)
        ports.push_back(std::stoi(local.substr(colon + 1), nullptr, 16));
    }
  }
  return ports;
}

}  // namespace ccmesh::test
