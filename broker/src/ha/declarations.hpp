#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ccmesh/common/session_options.hpp"
#include "ccmesh/common/sessions_file.hpp"

namespace ccmesh::broker {

// What only the broker knows of a session started at runtime, kept in etcd under
// /ccmesh/CLUSTER/declared/session/NAME (msgpack) so that a new leader declares it again.
struct DeclaredSession {
  std::string name;
  SessionOptions options;
  std::string creator;  // allow-list name of the client that started it
  MSGPACK_DEFINE_MAP(name, options, creator)
};

// A pool made at runtime, under /ccmesh/CLUSTER/declared/pool/NAME: as a sessions file
// would declare it.
struct DeclaredPool {
  std::string name;
  uint32_t size = 0;                 // members NAME/0.. it creates (0: `members`)
  std::string strategy;              // round_robin, least_busy or random
  std::vector<std::string> members;  // existing sessions it groups
  SessionOptions options;            // of the members it creates
  MSGPACK_DEFINE_MAP(name, size, strategy, members, options)

  PoolSpec spec() const { return PoolSpec{name, size, strategy, members, options}; }
};

// Everything declared, as a new leader reads it back.
struct Declarations {
  std::vector<DeclaredSession> sessions;
  std::vector<DeclaredPool> pools;
};

// One change to write to etcd: `value` set, or the key deleted when it is empty.
struct DeclarationWrite {
  std::string key;                   // under /ccmesh/CLUSTER/declared/
  std::optional<std::string> value;  // msgpack of DeclaredSession or DeclaredPool
};

// The key suffixes of each kind.
inline std::string sessionKey(const std::string& name) { return "session/" + name; }
inline std::string poolKey(const std::string& name) { return "pool/" + name; }

}  // namespace ccmesh::broker
