#include "harness/ready_file.hpp"

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

std::map<std::string, std::string> waitForReadyFile(Process& process, const std::string& path,
                                                    const std::vector<std::string>& keys,
                                                    Millis deadline) {
  std::map<std::string, std::string> values;
  const auto complete = [&] {
    for (const auto& key : keys) {
      if (!values.count(key)) return false;
    }
    return true;
  };
  waitFor(
      [&] {
        if (!process.running()) return true;
        values = readReadyFile(path);
        return complete();
      },
      deadline);
  if (!complete()) {
    throw std::runtime_error("no complete ready file " + path + "; log:\n" + process.log());
  }
  return values;
}

BrokerEndpoints waitForBrokerEndpoints(Process& broker, const std::string& path, Millis deadline) {
  auto endpoints = waitForReadyFile(broker, path, {"frontend", "backend"}, deadline);
  return {endpoints["frontend"], endpoints["backend"], endpoints["http"]};
}

}  // namespace ccmesh::test
