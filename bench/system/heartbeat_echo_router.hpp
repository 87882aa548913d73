#pragma once

#include <sys/types.h>

#include <string>

namespace ccmesh::bench {

// The limit beside the broker's heartbeat CPU: a process running nothing but a plain
// ZeroMQ ROUTER that answers every message with its frames unchanged, so simulated workers
// get one answer per heartbeat, as from the broker, and no decoding happens. Forked when
// constructed, which must happen before the caller starts any thread; it exits when this
// object goes away (or the caller dies).
class HeartbeatEchoRouter {
 public:
  HeartbeatEchoRouter();
  ~HeartbeatEchoRouter();
  HeartbeatEchoRouter(const HeartbeatEchoRouter&) = delete;
  HeartbeatEchoRouter& operator=(const HeartbeatEchoRouter&) = delete;

  pid_t pid() const { return pid_; }
  // Where workers connect.
  const std::string& endpoint() const { return endpoint_; }

 private:
  pid_t pid_ = -1;        // the router process
  int keep_alive_ = -1;   // write end of a pipe; the router leaves when it closes
  std::string endpoint_;  // its bound endpoint
};

}  // namespace ccmesh::bench
