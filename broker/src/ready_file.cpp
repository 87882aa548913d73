#include "ccmesh/broker/ready_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "ccmesh/common/config_loader.hpp"

namespace ccmesh::broker {

void writeReadyFile(const std::string& path, const std::string& frontend,
                    const std::string& backend, const std::string& http) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::trunc);
    file << "frontend=" << frontend << "\n"
         << "backend=" << backend << "\n";
    if (!http.empty()) file << "http=" << http << "\n";
    file.flush();
    if (!file) throw ConfigError("cannot write ready file " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(temporary.c_str());
    throw ConfigError("cannot rename " + temporary + " to " + path + ": " + why);
  }
}

}  // namespace ccmesh::broker
