#include "closed_loop.hpp"

#include <chrono>
#include <map>
#include <stdexcept>

namespace ccmesh::bench {

double closedLoopThroughput(client::Client& client,
                            const std::function<std::string(std::size_t)>& session,
                            std::size_t in_flight, std::size_t count) {
  std::map<uint64_t, std::size_t> session_of;  // request id -> session index
  const auto start = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  for (; sent < in_flight && sent < count; ++sent) {
    session_of[client.sendQuery(session(sent), "hello")] = sent;
  }
  for (std::size_t received = 0; received < count;) {
    auto incoming = client.receive(Millis(30000));
    if (!incoming) throw std::runtime_error("throughput: no answer within 30 s");
    if (incoming->type == MessageType::kEvent) continue;
    if (incoming->type != MessageType::kResult) {
      throw std::runtime_error("throughput query failed: " + incoming->error.message);
    }
    const auto index = session_of.at(incoming->id);
    session_of.erase(incoming->id);
    ++received;
    if (sent < count) {
      session_of[client.sendQuery(session(index), "hello")] = index;
      ++sent;
    }
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return static_cast<double>(count) / elapsed.count();
}

}  // namespace ccmesh::bench
