#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::broker {

// One key of etcd as a range answers it.
struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // the revision that created the key (a leader's term)
  int64_t lease = 0;            // the lease it lives under; 0: none
};

// What a create-if-absent transaction found.
// One write of a transaction: `key` = `value`, or `key` deleted when there is no value.
struct EtcdWrite {
  std::string key;
  std::optional<std::string> value;
};

struct EtcdCreated {
  bool created = false;  // the key was absent and is ours now
  EtcdKeyValue holder;   // the key as it is now (ours, or the one already there)
};

// The few calls of etcd v3's JSON gateway (HTTP POST /v3/...) that leader election needs,
// over cpp-httplib. Keys and values travel base64-encoded and 64-bit numbers as strings, as
// the gateway wants. Every call tries the endpoints in turn, starting from the one that
// answered last, each with `timeout` to connect and to answer; nullopt (or false) when none
// answered. Blocking: used from the election's own thread only.
class EtcdGateway {
 public:
  // `endpoints`: http://HOST:PORT of etcd members, at least one.
  EtcdGateway(std::vector<std::string> endpoints, Millis timeout);

  // A new lease of `ttl_seconds`; its id and the TTL etcd granted (it may raise it).
  std::optional<std::pair<int64_t, int64_t>> grantLease(int64_t ttl_seconds);
  // Renews a lease; the seconds it has left (0: it is gone).
  std::optional<int64_t> keepAlive(int64_t lease);
  // Ends a lease now: every key under it goes.
  bool revoke(int64_t lease);
  // Creates `key` = `value` under `lease` if no such key exists.
  std::optional<EtcdCreated> createIfAbsent(const std::string& key, const std::string& value,
                                            int64_t lease);
  // Sets `key` = `value` under `lease` (0: none).
  bool put(const std::string& key, const std::string& value, int64_t lease);
  // Deletes `key` if it was created at `create_revision` (still the same incarnation).
  bool deleteIfCreatedAt(const std::string& key, int64_t create_revision);
  // Applies `writes` in one transaction (all or none), only while `guard` still has create
  // revision `revision` (the writer still leads). No key may appear twice (etcd refuses the
  // transaction). False if etcd did not answer; true with `applied` false if the guard
  // failed.
  bool writeIfCreatedAt(const std::string& guard, int64_t revision,
                        std::span<const EtcdWrite> writes, bool& applied);
  // The key `key`, or with `prefix` every key that starts with it. Empty: none.
  std::optional<std::vector<EtcdKeyValue>> range(const std::string& key, bool prefix = false);

  // The endpoint that answered last.
  const std::string& endpoint() const { return endpoints_[current_]; }

 private:
  // POSTs `body` (JSON) to `path` at the endpoints in turn; the first parsed answer.
  std::optional<std::string> post(const std::string& path, const std::string& body);

  std::vector<std::string> endpoints_;  // http://HOST:PORT
  std::size_t current_ = 0;             // the one that answered last
  Millis timeout_;                      // connect and read timeout of one try
};

}  // namespace ccmesh::broker
