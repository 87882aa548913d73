#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ccmesh::monitoring {

// Where and how a process serves its HTTP endpoint (metrics, health, API, live events).
struct HttpOptions {
  std::string listen;      // "HOST:PORT" (port 0: any free one); empty: no endpoint
  std::string token_file;  // set: every request needs `Authorization: Bearer <its token>`
  bool insecure = false;   // allow an address other machines reach without a token
  // Requests of routes that hold their thread for long (queries waiting for an answer)
  // served at once, besides the event streams and the short routes.
  std::size_t long_requests = 0;
};

// A parsed HOST:PORT.
struct HttpAddress {
  std::string host;  // "127.0.0.1", "::1", "localhost", "0.0.0.0", ...
  int port = 0;      // 0: any free port
};

// Parses "HOST:PORT" or "[V6]:PORT"; throws ConfigError naming `option` if it is not one.
HttpAddress parseHttpAddress(const std::string& text, std::string_view option);

// True for hosts only this machine reaches: 127.0.0.0/8, ::1, localhost.
bool isLoopbackHost(std::string_view host);

// The same rule as the ZeroMQ ports: an address other machines reach needs a token file
// (or `insecure`). Throws ConfigError naming `option` otherwise, or if the address does not
// parse.
void validateHttpOptions(const HttpOptions& options, std::string_view option);

}  // namespace ccmesh::monitoring
