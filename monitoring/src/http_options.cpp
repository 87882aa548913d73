#include "ccmesh/monitoring/http_options.hpp"

#include <charconv>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/monitoring/http_tokens.hpp"

namespace ccmesh::monitoring {

HttpAddress parseHttpAddress(const std::string& text, std::string_view option) {
  const auto bad = [&] {
    return ConfigError("--" + std::string(option) + " '" + text +
                       "' must be HOST:PORT, for example 127.0.0.1:5557 (port 0: any free one)");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) throw bad();
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') throw bad();
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  const auto [end, error] = std::from_chars(first, last, port);
  if (error != std::errc() || end != last || port < 0 || port > 65535) throw bad();
  return {host, port};
}

bool isLoopbackHost(std::string_view host) {
  return host.substr(0, 4) == "127." || host == "::1" || host == "localhost";
}

void validateHttpOptions(const HttpOptions& options, std::string_view option) {
  if (options.listen.empty()) return;
  const HttpAddress address = parseHttpAddress(options.listen, option);
  if (!isLoopbackHost(address.host) && options.token_file.empty() && !options.insecure) {
    throw ConfigError("--" + std::string(option) + " " + options.listen +
                      " is reachable from other machines: give --http-token-file FILE (clients "
                      "then send `Authorization: Bearer <token>`), or bind a loopback address, "
                      "or pass --insecure on a network you trust completely");
  }
  if (!options.token_file.empty()) HttpTokens::load(options.token_file);
}

}  // namespace ccmesh::monitoring
