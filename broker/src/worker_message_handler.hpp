#pragma once

#include <set>
#include <string>

#include "ccmesh/broker/worker_table.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/worker_messages.hpp"
#include "rate_limited_log.hpp"
#include "session_router.hpp"

namespace ccmesh::broker {

// What the broker does with each message a worker sends on the backend: registration
// (`ready` -> `welcome`, adopting or fencing the sessions it reports), liveness, session
// state, and relaying replies to the clients that asked, with their ids restored. Messages
// about another generation or placement are dropped and counted (and the stale copy told
// to stop). Never throws on anything a worker sends.
class WorkerMessageHandler {
 public:
  WorkerMessageHandler(SessionRouter& router, RateLimitedLog& warnings);

  // Handles one decoded message from the peer with routing id `routing_id`. `key_name` is the
  // allow-list name of the CURVE key that sent it (empty without CURVE): with CURVE a key
  // may only speak for the worker of its own name.
  void handle(const std::string& routing_id, const Envelope& envelope,
              const std::string& key_name = {});

 private:
  void onReady(const std::string& routing_id, const Envelope& envelope,
               const std::string& key_name);
  // Refuses (counts, logs, answers unauthorized if `answer`) a message that claims worker
  // `id` but was sent with the key of `key_name`.
  void refuseWorkerId(const std::string& routing_id, const std::string& id,
                      const std::string& key_name, bool answer);
  // Adopts, updates or fences one session a worker reports in `ready`; adds the names the
  // worker may keep to `held`.
  void adoptReport(WorkerEntry& worker, const msg::SessionReport& report,
                   std::set<std::string>& held);
  void onSessionUpdate(WorkerEntry& worker, const msg::SessionUpdate& update);
  void onDelivered(WorkerEntry& worker, const msg::Delivered& delivered);
  void onEvent(WorkerEntry& worker, const Envelope& envelope);
  void onResult(WorkerEntry& worker, const Envelope& envelope);
  void onError(WorkerEntry& worker, const Envelope& envelope);
  void onTranscriptAppend(WorkerEntry& worker, msg::TranscriptAppend batch);
  void onTranscriptFetch(WorkerEntry& worker, const msg::TranscriptFetch& fetch);
  // A (re)registering worker reports a session: notes how far its conversation goes, and
  // if the broker's copy lacks entries, tells the worker where it stops.
  void askForMissingEntries(WorkerEntry& worker, const msg::SessionUpdate& update);
  // `move`: the old copy answered the terminate (stopped, or not there): place the name on
  // the target.
  void continueMove(BrokerRequest& request);

  // Finds the request a reply is about, if `worker` is the one it was forwarded to;
  // otherwise counts a stale message and returns nullptr.
  BrokerRequest* requestFrom(const WorkerEntry& worker, uint64_t id, std::string_view type);

  // Tells a worker to stop a copy of a session it should not hold (fencing).
  void fence(const std::string& worker_id, const std::string& session, uint64_t generation);

  // Answers a malformed message (counted in malformed_messages).
  void rejectMalformed(const std::string& routing_id, uint64_t id, const Error& error);

  SessionRouter& router_;     // shared tables and actions
  RateLimitedLog& warnings_;  // rate-limited warnings about bad or stale input
};

}  // namespace ccmesh::broker
