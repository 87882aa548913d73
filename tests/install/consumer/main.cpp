// A program outside the ccmesh tree, built against an installed ccmesh (find_package or
// pkg-config): pings the broker, checks that it runs the version of the installed headers,
// and queries one session.
// Usage: ccmesh-consumer BROKER_ENDPOINT SESSION PROMPT
#include <iostream>
#include <string>

#include "ccmesh/client/client.hpp"
#include "ccmesh/common/version.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: ccmesh-consumer BROKER_ENDPOINT SESSION PROMPT\n";
    return 2;
  }
  ccmesh::client::Client client({.broker = argv[1], .timeout = ccmesh::Millis(30000)});
  const auto ping = client.ping();
  if (!ping) {
    std::cerr << "ping: " << ping.error().code_name << ": " << ping.error().message << "\n";
    return 1;
  }
  if (ping->version != ccmesh::kVersion) {
    std::cerr << "broker version " << ping->version << ", headers " << ccmesh::kVersion << "\n";
    return 1;
  }
  const auto reply = client.query(argv[2], argv[3]);
  if (!reply) {
    std::cerr << "query: " << reply.error().code_name << ": " << reply.error().message << "\n";
    return 1;
  }
  std::cout << "version " << ping->version << "\n"
            << "worker " << reply->worker << "\n"
            << "answer " << reply->text << "\n";
  return 0;
}
