#pragma once

#include <span>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "ccmesh/common/body_fields.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/worker_messages.hpp"
#include "core/broker_core.hpp"
#include "rate_limited_log.hpp"

namespace ccmesh::broker {

// The messages a worker sends on the backend: decodes and checks each one (its sender is a
// registered worker, and with CURVE the worker its key names), then calls one verb of the
// BrokerCore (workerJoined, heartbeatFrom, sessionUpdate, markDelivered, relayEvent,
// settleResult, settleError, appendTranscript, ...). Never throws on anything a worker sends.
class WorkerMessageHandler {
 public:
  WorkerMessageHandler(BrokerCore& core, RateLimitedLog& warnings);

  // Handles one decoded message from the peer with routing id `routing_id`. `key_name` is the
  // allow-list name of the CURVE key that sent it (empty without CURVE): with CURVE a key
  // may only speak for the worker of its own name.
  void handle(const std::string& routing_id, const Envelope& envelope,
              const std::string& key_name = {});
  // The messages a worker sends most, `event`, `delivered`, `heartbeat` and a query's
  // `result`, handled from their frames ([CCM1][type][body], routing id stripped) by reading
  // only the fields they need in place (BodyFields): no msgpack objects, and the client's
  // copy of an event or result is its body with the id replaced. False, with nothing done, for
  // anything else, and for anything handle() would treat otherwise than as a well-formed message of
  // a registered worker (refusals, errors): decode it and call handle().
  bool handleInPlace(const std::string& routing_id, std::span<const zmq::message_t> frames,
                     const std::string& key_name = {});

 private:
  void onReady(const std::string& routing_id, const Envelope& envelope,
               const std::string& key_name);
  void onTranscriptAppend(const std::string& worker_id, msg::TranscriptAppend batch);
  // Refuses (counts, logs, answers unauthorized if `answer`) a message that claims worker
  // `id` but was sent with the key of `key_name`.
  void refuseWorkerId(const std::string& routing_id, const std::string& id,
                      const std::string& key_name, bool answer);
  // Answers a malformed message (counted in malformed_messages).
  void rejectMalformed(const std::string& routing_id, uint64_t id, const Error& error);

  BrokerCore& core_;                                   // the state machine
  RateLimitedLog& warnings_;                           // warnings about bad or stale input
  BodyFields event_fields_{"seq", "kind", "text"};     // an `event` read in place
  BodyFields delivered_fields_{};                      // a `delivered` read in place
  BodyFields heartbeat_fields_{"seq", "ack", "term"};  // a `heartbeat` read in place
  BodyFields result_fields_{"cost_usd", "input_tokens", "output_tokens",
                            "pool"};  // a query's `result` read in place
  std::string worker_id_;  // the sender's id while handleInPlace runs (its memory reused)
};

}  // namespace ccmesh::broker
