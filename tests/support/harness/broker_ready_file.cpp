#include "harness/broker_ready_file.hpp"

#include <fstream>
#include <map>
#include <stdexcept>

namespace ccmesh::test {
namespace {

// Reads the `key=value` lines of the broker's ready file.
std::map<std::string, std::string> readReadyFile(const std::string& path) {
  std::map<std::string, std::string> values;
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

}  // namespace

BrokerEndpoints waitForBrokerEndpoints(Process& broker, const std::string& path, Millis deadline) {
  std::map<std::string, std::string> endpoints;
  waitFor(
      [&] {
        if (!broker.running()) return true;
        endpoints = readReadyFile(path);
        return endpoints.count("frontend") && endpoints.count("backend");
      },
      deadline);
  if (!endpoints.count("frontend") || !endpoints.count("backend")) {
    throw std::runtime_error("broker did not bind its ports; log:\n" + broker.log());
  }
  return {endpoints["frontend"], endpoints["backend"], endpoints["http"]};
}

}  // namespace ccmesh::test
