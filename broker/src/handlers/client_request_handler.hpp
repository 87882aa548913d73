#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ccmesh/broker/access_control.hpp"
#include "ccmesh/broker/broker_stats.hpp"
#include "ccmesh/common/body_fields.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/requests.hpp"
#include "core/broker_core.hpp"
#include "feed/watch_feed.hpp"
#include "rate_limited_log.hpp"

namespace ccmesh::broker {

// The session requests a client sends on the frontend: decodes and checks each one, then
// calls one verb of the BrokerCore (start, query, cancel, terminate, restart, move), or
// answers the reads (info, list, count, status, ping, transcript) from the core's tables.
// Never throws on anything a client sends: bad input gets `error` bad_request.
class ClientRequestHandler {
 public:
  // `stats` gives the counters `status` reports; `feed` takes the watches.
  ClientRequestHandler(BrokerCore& core, WatchFeed& feed, AccessControl& access,
                       RateLimitedLog& warnings, std::function<BrokerStats()> stats,
                       TimePoint started);

  // What `list`, `count` and `status` answer (also served over HTTP).
  msg::ListResult list(uint64_t id) const;
  msg::CountResult count(uint64_t id) const;
  msg::StatusResult status(uint64_t id) const;
  // Where `status` reads high availability from (none: a single broker).
  void reportHa(std::function<msg::HaStatus()> ha) { ha_ = std::move(ha); }

  // True for the message types handle() takes.
  static bool handles(MessageType type);

  // Handles one decoded message from client `client` (its routing id) sent by `caller`.
  void handle(const std::string& client, const Envelope& envelope, const Caller& caller);

  // The request a client sends most, `query`, read in place from its frames
  // ([CCM1][type][body], routing id stripped): its fields are views into the body, nothing
  // is decoded into msgpack objects. Nullopt for anything else, and for a query handle()
  // would answer otherwise than by running it (id 0, a field of another type, a repeated
  // key): decode that one and call handle(). The views live as long as the frames.
  std::optional<msg::QueryView> readQuery(std::span<const zmq::message_t> frames);
  // Runs a query read by readQuery() from client `client`, its caller admitted.
  void query(const std::string& client, const msg::QueryView& query);

 private:
  void onQuery(const std::string& client, const msg::QueryView& query);
  void onStart(const std::string& client, const Caller& caller, const msg::Start& start);
  void onSet(const std::string& client, const msg::Set& set);
  void onPermissionReply(const std::string& client, const Envelope& envelope, const Caller& caller);
  void onInfo(const std::string& client, const msg::Info& info);
  void onTranscript(const std::string& client, const msg::TranscriptRequest& request);
  void onList(const std::string& client, uint64_t id);
  void onCount(const std::string& client, uint64_t id);
  void onStatus(const std::string& client, uint64_t id);
  void onPing(const std::string& client, const msg::Ping& ping);
  void onWatch(const std::string& client, const msg::Watch& watch);

  // Decodes a body, checks its id and session name, and runs `then` with it; or answers
  // bad_request and counts it.
  template <class T, class F>
  void with(const std::string& client, const Envelope& envelope, F&& then);
  // Answers a malformed request (counted in malformed_messages).
  void rejectMalformed(const std::string& client, uint64_t id, const Error& error,
                       std::string_view what);
  // Answers not_found (or unavailable while recovering) for a name the broker lacks.
  void notFound(const std::string& client, uint64_t id, const std::string& name);
  // Milliseconds since the broker started.
  uint64_t uptimeMs() const;

  BrokerCore& core_;       // the state machine
  WatchFeed& feed_;        // `watch` clients
  AccessControl& access_;  // session quotas
  BodyFields query_fields_{"session", "prompt", "stream", "timeout_ms",
                           "generation"};  // a `query` read in place
  RateLimitedLog& warnings_;               // rate-limited warnings about bad input
  std::function<BrokerStats()> stats_;     // counters for `status`
  TimePoint started_;                      // for uptime_ms
  std::function<msg::HaStatus()> ha_;      // see reportHa()
};

}  // namespace ccmesh::broker
