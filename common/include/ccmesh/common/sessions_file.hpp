#pragma once

#include <cstdint>
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

// A pool declared in the sessions file: `[pool.NAME]` with `size` (members NAME/0 ..
// NAME/size-1 to create) or `members` (existing sessions, comma-separated), `strategy`, and
// any session option, which applies to the members it creates.
struct PoolSpec {
  std::string name;
  uint32_t size = 0;                 // members to create (0 with `members`)
  std::string strategy;              // round_robin (empty), least_busy or random
  std::vector<std::string> members;  // existing sessions to group instead
  SessionOptions options;            // options of the members it creates

  // Checks the name, size xor members (1..limits::kMaxPoolSize), strategy, member names and
  // options; the message names what is wrong.
  std::optional<Error> validate() const;
};

// Everything a sessions file declares, in file order.
struct SessionsFile {
  std::vector<SessionSpec> sessions;
  std::vector<PoolSpec> pools;
};

// Reads an INI sessions file. Throws ConfigError naming the section and option at fault.
SessionsFile readSessionsFile(const std::string& path);

// The sessions of a sessions file (its pools are read and checked, then left out).
std::vector<SessionSpec> loadSessionsFile(const std::string& path);

// Session names: 1..128 bytes of [A-Za-z0-9._:@/-], not starting with '-' or '/'.
std::optional<Error> validateSessionName(std::string_view name);

// Pool names: session names short enough that every member name NAME/N fits.
std::optional<Error> validatePoolName(std::string_view name);

// The name of member `index` of a pool that creates its members: NAME/index.
std::string poolMemberName(std::string_view pool, uint32_t index);

}  // namespace ccmesh
