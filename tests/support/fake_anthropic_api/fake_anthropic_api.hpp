#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ccmesh/common/clock.hpp"
#include "fake_anthropic_api/message_reply.hpp"
#include "fake_anthropic_api/messages_request.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ccmesh::test {

// A local stand-in for the Anthropic Messages API that the real Claude Code CLI talks to
// when started with ANTHROPIC_BASE_URL=baseUrl(). Serves on a free loopback port from a
// background thread:
// - POST /v1/messages: a deterministic answer (MessageReply) as JSON, or as server-sent
//   events when the request says "stream": true; every request is recorded;
// - POST /v1/messages/count_tokens: a token estimate; any other POST: 404 in the API's error
//   shape; any GET or HEAD: 200 {}.
// Tests can make it stream slowly, hold streams open, fail with HTTP errors and answer with
// tool calls. Every method is thread-safe.
class FakeAnthropicApi {
 public:
  // The longest a held stream waits for releaseStreams().
  static constexpr Millis kHoldLimit{30000};

  // Binds 127.0.0.1 on a free port and starts serving. Throws std::runtime_error when it
  // cannot bind.
  FakeAnthropicApi();
  // Releases held streams, stops serving and joins the thread.
  ~FakeAnthropicApi();
  FakeAnthropicApi(const FakeAnthropicApi&) = delete;
  FakeAnthropicApi& operator=(const FakeAnthropicApi&) = delete;

  int port() const { return port_; }
  // http://127.0.0.1:PORT, for ANTHROPIC_BASE_URL.
  std::string baseUrl() const;

  // --- behaviour, for requests that arrive from now on
  // Pause before each streamed delta (0: none).
  void setDeltaDelay(Millis delay);
  // The next `count` POST /v1/messages get HTTP `status` with the API's error body.
  void failNext(std::size_t count, int status);
  // Which prompt triggers a tool call, and the Bash command it asks for.
  void setReplyRules(ReplyRules rules);
  // Streams stop after their first text delta until releaseStreams() (or kHoldLimit).
  void holdStreamsAfterFirstDelta();
  // Lets held streams (and later ones) run to the end.
  void releaseStreams();

  // --- what happened
  // Every POST /v1/messages so far, failed ones included, in arrival order.
  std::vector<MessagesRequest> requests() const;
  std::size_t requestCount() const;
  // Waits until the `number`-th request (1-based) has arrived and returns it; nullopt at the
  // deadline.
  std::optional<MessagesRequest> waitForRequest(std::size_t number, Millis deadline);
  // Streams whose last event was written.
  std::size_t finishedStreams() const;
  // Streams the client left before their end (an interrupted or killed CLI).
  std::size_t abandonedStreams() const;
  // Waits until abandonedStreams() >= count.
  bool waitForAbandonedStreams(std::size_t count, Millis deadline);

 private:
  // What one request is answered with, decided under the lock when it arrives.
  struct Answer {
    int status = 200;     // HTTP status; not 200: the API's error body
    MessageReply reply;   // the answer when status is 200
    Millis delta_delay;   // pause before each delta
    bool hold = false;    // stop after the first text delta until released
    uint64_t serial = 0;  // request number, for ids
  };

  void handleMessages(const httplib::Request& request, httplib::Response& response);
  void streamReply(const Answer& answer, httplib::Response& response);
  // Waits `delay` unless the server stops first; false when it stopped.
  bool pause(Millis delay);
  // Waits until streams are released (or the server stops, or kHoldLimit passes).
  void waitForRelease();

  std::unique_ptr<httplib::Server> server_;  // the HTTP server
  std::thread thread_;                       // runs server_'s accept loop
  int port_ = 0;                             // the bound port
  mutable std::mutex mutex_;                 // guards everything below
  std::condition_variable changed_;          // signalled on every change below
  std::vector<MessagesRequest> requests_;    // recorded requests
  std::size_t finished_streams_ = 0;         // streams written to the end
  std::size_t abandoned_streams_ = 0;        // streams the client left
  Millis delta_delay_{0};                    // see setDeltaDelay
  std::size_t failures_left_ = 0;            // see failNext
  int failure_status_ = 500;                 // see failNext
  ReplyRules rules_;                         // see setReplyRules
  bool hold_ = false;                        // see holdStreamsAfterFirstDelta
  bool stopping_ = false;                    // the destructor runs: stop waiting
};

}  // namespace ccmesh::test
