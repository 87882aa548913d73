#pragma once
// A BrokerCore driven through its verbs alone: no sockets, no loop, a manual clock. What it
// sends is recorded by a RecordingSender; what it changed, by an EventLog.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ccmesh/common/logging.hpp"
#include "core/broker_core.hpp"
#include "core/status_counters.hpp"
#include "recording_sender.hpp"

namespace ccmesh::broker::testing {

// Every event, in the order announced.
class EventLog final : public BrokerObserver {
 public:
  void onEvent(const BrokerEvent& event) override { events.push_back(event); }

  // Names of the events from index `from` on.
  std::vector<std::string> names(std::size_t from = 0) const {
    std::vector<std::string> out;
    for (std::size_t i = from; i < events.size(); ++i) {
      out.emplace_back(event::name(events[i].body));
    }
    return out;
  }

  // The last event of type T.
  template <class T>
  const T& last() const {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (const auto* body = std::get_if<T>(&it->body)) return *body;
    }
    throw std::runtime_error("no such event");
  }

  std::vector<BrokerEvent> events;
};

// An envelope as the broker's decoder makes it.
template <class T>
Envelope envelope(MessageType type, const T& body) {
  const auto buffer = encodeBody(body);
  Envelope envelope;
  envelope.type = type;
  envelope.body = msgpack::unpack(buffer.data(), buffer.size());
  if constexpr (requires { body.id; }) envelope.id = body.id;
  return envelope;
}

class BrokerCoreTest : public ::testing::Test {
 protected:
  BrokerCoreTest() {
    config_.heartbeat = Millis(100);
    core_ = std::make_unique<BrokerCore>(
        config_, clock_, sender_,
        std::make_unique<TranscriptStore>(TranscriptLimits{}, "", componentLogger("broker")),
        componentLogger("broker"));
    core_->events().subscribe(log_);
    core_->events().subscribe(counters_);
  }

  // Worker `id` registers (routing id "r-" + id) with room for `capacity` sessions.
  void join(const std::string& id, uint32_t capacity = 8) {
    msg::Ready ready;
    ready.worker = id;
    ready.capacity = capacity;
    core_->workerJoined("r-" + id, id, ready);
  }

  // Starts session `name` for client "c" and lets its worker say it is idle; returns the
  // worker it was placed on.
  std::string startIdle(const std::string& name, uint64_t id = 1) {
    core_->start("c", msg::Start{id, name, {}}, "alice");
    const auto& entry = *core_->sessions().find(name);
    const std::string worker = entry.worker;
    const auto assign = sender_.last("r-" + worker, MessageType::kAssign).as<msg::Assign>();
    core_->settleResult(worker,
                        envelope(MessageType::kResult,
                                 msg::Ack{assign.id, name, worker, assign.generation, "idle"}));
    return worker;
  }

  // The query the core forwarded last to `worker`.
  msg::Query forwarded(const std::string& worker) {
    return sender_.last("r-" + worker, MessageType::kQuery).as<msg::Query>();
  }

  BrokerConfig config_;
  ManualClock clock_;
  RecordingSender sender_;
  EventLog log_;
  StatusCounters counters_;
  std::unique_ptr<BrokerCore> core_;
};

}  // namespace ccmesh::broker::testing
