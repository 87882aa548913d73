#include "transport/disconnect_watch.hpp"

#include <atomic>
#include <cstdint>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/monitor_event.hpp"

namespace ccmesh::broker {
namespace {

// A monitor endpoint unique in the process (tests run several brokers in one process).
std::string nextEndpoint() {
  static std::atomic<uint64_t> counter{0};
  return "inproc://ccmesh-disconnect-watch-" + std::to_string(counter.fetch_add(1));
}

}  // namespace

int sourceDescriptor(zmq::message_t& frame) {
  const int fd = zmq_msg_get(frame.handle(), ZMQ_SRCFD);
  return fd < 0 ? -1 : fd;
}

DisconnectWatch::DisconnectWatch(zmq::context_t& context, zmq::socket_t& backend,
                                 const Clock& clock)
    : backend_(backend), monitor_(context, zmq::socket_type::pair), clock_(clock) {
  const std::string endpoint = nextEndpoint();
  if (zmq_socket_monitor(backend.handle(), endpoint.c_str(), ZMQ_EVENT_DISCONNECTED) != 0) {
    throw ConfigError(std::string("cannot monitor the backend: ") + zmq_strerror(zmq_errno()));
  }
  monitor_.set(zmq::sockopt::linger, 0);
  monitor_.connect(endpoint);
}

DisconnectWatch::~DisconnectWatch() {
  // Stop the monitor while both sockets live, so nothing is left writing to a closed pair.
  zmq_socket_monitor(backend_.handle(), nullptr, 0);
}

void DisconnectWatch::noteMessage(const std::string& worker_id, int fd) {
  if (fd < 0) return;
  auto [it, inserted] = fd_of_.try_emplace(worker_id, fd);
  if (!inserted) it->second = fd;
}

void DisconnectWatch::forget(const std::string& worker_id) { fd_of_.erase(worker_id); }

void DisconnectWatch::keepOnly(const std::function<bool(const std::string&)>& known) {
  std::erase_if(fd_of_, [&known](const auto& entry) { return !known(entry.first); });
}

std::vector<std::string> DisconnectWatch::drain() {
  std::vector<std::string> now_probe;
  while (const auto next = receiveMonitorEvent(monitor_)) {
    if (next->event != ZMQ_EVENT_DISCONNECTED) continue;
    // The value of a disconnect is the descriptor the connection had.
    const auto fd = static_cast<int32_t>(next->value);
    ++disconnects_;
    const TimePoint now = clock_.now();
    for (const auto& [worker_id, worker_fd] : fd_of_) {
      if (worker_fd != fd) continue;
      now_probe.push_back(worker_id);
      for (const Millis delay : kProbeSchedule) probes_.emplace(now + delay, worker_id);
    }
  }
  return now_probe;
}

std::vector<std::string> DisconnectWatch::dueProbes(TimePoint now) {
  std::vector<std::string> due;
  while (!probes_.empty() && probes_.begin()->first <= now) {
    if (fd_of_.count(probes_.begin()->second) != 0) due.push_back(probes_.begin()->second);
    probes_.erase(probes_.begin());
  }
  return due;
}

std::optional<TimePoint> DisconnectWatch::nextProbe() const {
  if (probes_.empty()) return std::nullopt;
  return probes_.begin()->first;
}

}  // namespace ccmesh::broker
