#include "ccmesh/common/ready_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "ccmesh/common/config_loader.hpp"

namespace ccmesh {

void writeReadyFile(const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& entries) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::trunc);
    for (const auto& [key, value] : entries) {
      if (!value.empty()) file << key << "=" << value << "\n";
    }
    file.flush();
    if (!file) throw ConfigError("cannot write ready file " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(temporary.c_str());
    throw ConfigError("cannot rename " + temporary + " to " + path + ": " + why);
  }
}

}  // namespace ccmesh
