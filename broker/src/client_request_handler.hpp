#pragma once

#include <cstdint>
#include <string>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/requests.hpp"
#include "pool_request_handler.hpp"
#include "rate_limited_log.hpp"
#include "session_router.hpp"

namespace ccmesh::broker {

// What the broker does with each request a client sends on the frontend: answers
// info/list/count/status/ping from its tables, registers and places sessions, forwards
// queries (or keeps them until their session is placed) and cancels. Never throws on
// anything a client sends: bad input gets `error` bad_request.
class ClientRequestHandler {
 public:
  // Pool requests go to `pools`.
  ClientRequestHandler(SessionRouter& router, PoolRequestHandler& pools, RateLimitedLog& warnings,
                       TimePoint started);

  // Handles one decoded message from client `client` (its routing id); `caller` is the
  // allow-list name of its key (empty without CURVE).
  void handle(const std::string& client, const Envelope& envelope, const std::string& caller = {});

 private:
  void onQuery(const std::string& client, msg::Query query);
  void onCancel(const std::string& client, const msg::Cancel& cancel);
  void onStart(const std::string& client, const msg::Start& start);
  void onTerminate(const std::string& client, const msg::Terminate& terminate);
  void onRestart(const std::string& client, const msg::Restart& restart);
  void onInfo(const std::string& client, const msg::Info& info);
  void onMove(const std::string& client, const msg::Move& move);
  void onTranscript(const std::string& client, const msg::TranscriptRequest& request);
  void onList(const std::string& client, uint64_t id);
  void onCount(const std::string& client, uint64_t id);
  void onStatus(const std::string& client, uint64_t id);
  void onPing(const std::string& client, const msg::Ping& ping);

  // Decodes a body and runs `then` with it, or answers bad_request and counts it.
  template <class T, class F>
  void with(const std::string& client, const Envelope& envelope, F&& then);

  // Answers a malformed request (counted in malformed_messages).
  void rejectMalformed(const std::string& client, uint64_t id, const Error& error,
                       std::string_view what);

  // Checks the name a request names; answers bad_request and returns false if invalid.
  bool checkName(const std::string& client, uint64_t id, const std::string& name);

  // Answers not_found for a name that is not registered (or is being terminated), or
  // unavailable while workers may still report it (RecoveryWindow::uncertain).
  void notFound(const std::string& client, uint64_t id, const std::string& name);

  // Why a name the broker does not know yet gets `unavailable`.
  std::string recoveringMessage(const std::string& name) const;

  // Milliseconds since the broker started.
  uint64_t uptimeMs() const;

  SessionRouter& router_;      // shared tables and actions
  PoolRequestHandler& pools_;  // pool requests
  RateLimitedLog& warnings_;   // rate-limited warnings about bad input
  TimePoint started_;          // for uptime_ms
};

}  // namespace ccmesh::broker
