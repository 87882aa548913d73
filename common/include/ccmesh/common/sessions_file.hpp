#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/session_options.hpp"

namespace ccmesh {

// A session declared in the sessions file: `[session.NAME]` followed by `option = value`.
struct SessionSpec {
  std::string name;
  SessionOptions options;
};

// Reads an INI sessions file. Throws ConfigError naming the section and option at fault.
std::vector<SessionSpec> loadSessionsFile(const std::string& path);

// Session names: 1..128 bytes of [A-Za-z0-9._:@/-], not starting with '-' or '/'.
std::optional<Error> validateSessionName(std::string_view name);

}  // namespace ccmesh
