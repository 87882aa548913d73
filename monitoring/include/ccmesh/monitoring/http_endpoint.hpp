#pragma once

#include <spdlog/spdlog.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ccmesh/common/json_forms.hpp"
#include "ccmesh/monitoring/event_backlog.hpp"
#include "ccmesh/monitoring/http_options.hpp"
#include "ccmesh/monitoring/http_tokens.hpp"
#include "ccmesh/monitoring/loop_mailbox.hpp"

namespace ccmesh::monitoring {

// A process's HTTP endpoint (cpp-httplib, on threads of its own): GET routes answered by
// handlers, routes of any method whose answer may be a stream, and server-sent-event streams
// of an EventBacklog. With a token file every request needs `Authorization: Bearer <token>`
// (401 otherwise); the token names the caller and its role. Handlers run on the endpoint's
// threads: they must reach the loop's state through a LoopMailbox.
class HttpEndpoint {
 public:
  // An answer.
  struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers{};  // extra headers
  };
  // 200 with `body` as JSON.
  static Reply json(const Json& body);
  // `status` with the JSON body {"error": code, "message": message}.
  static Reply error(int status, std::string_view code, std::string_view message);
  // What `make` answers when run on the event loop behind `mailbox` (which owns the
  // tables), or 503 `unavailable` when the loop did not come round within kLoopPatience.
  static Reply fromLoop(LoopMailbox& mailbox, std::function<Reply()> make);
  static constexpr Millis kLoopPatience{2000};

  // The request's query parameters (?a=b&c=d).
  using Params = std::map<std::string, std::string>;
  using Handler = std::function<Reply(const Params&)>;

  // Reads the token file if any (throws ConfigError). Serves nothing before start().
  HttpEndpoint(HttpOptions options, std::shared_ptr<spdlog::logger> logger);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Serves GET `path` with `handler` (before start()).
  void get(const std::string& path, Handler handler);

  // A request to a route().
  struct Request {
    std::vector<std::string> captures;  // the pattern's groups (of the percent-decoded path)
    Params params;                      // ?a=b&c=d
    std::string body;
    std::string content_type;  // of the body
    std::string accept;        // the Accept header
    HttpCaller caller;         // its token's role and name
  };
  // Writes a piece of a streamed answer; false once the peer is gone.
  using StreamWrite = std::function<bool(std::string_view)>;
  // What a route() answers: `reply`, or, when `stream` is set, a 200 of `stream_type` whose
  // body `stream` writes (chunked) on the endpoint's thread; the answer ends when it returns.
  struct Answer {
    Reply reply;
    std::function<void(const StreamWrite&)> stream{};
    std::string stream_type = "text/event-stream";
  };
  using Route = std::function<Answer(const Request&)>;
  // Serves `method` (GET, POST, DELETE, ...) on paths matching the regular expression
  // `pattern` with `route` (before start()).
  void route(const std::string& method, const std::string& pattern, Route route);

  // Serves GET `path` as a health check: 200 `{"status":"ok"}` while the loop behind
  // `mailbox` comes round within kLoopPatience, else 503 (before start()).
  void health(const std::string& path, LoopMailbox& mailbox);

  // Serves GET `path` as Prometheus metrics (before start()): `sample` runs on the loop
  // behind `mailbox` (gauges read from the tables it owns), then `render` makes the text on
  // the endpoint's thread.
  void metrics(const std::string& path, LoopMailbox& mailbox, std::function<void()> sample,
               std::function<std::string()> render);

  // Serves `backlog` at `path` as server-sent events (before start()): `id:` the seq,
  // `event:` the kind, `data:` the entry's data. A stream begins after the request's
  // `Last-Event-ID` or `?after=SEQ` (default: the newest event), keeps only the events of
  // `?session=NAME` and of `?pool=NAME` (the pool's own and its members') if given, sends a comment
  // every 15 s of quiet, and an `event: missed` when it fell behind the backlog. At most
  // `kMaxStreams` at once (503 beyond).
  void events(const std::string& path, EventBacklog& backlog);

  // Binds and serves from now on. Throws ConfigError if the address cannot be bound.
  // Returns the address as bound ("http://127.0.0.1:PORT").
  std::string start();

  // Stops serving; streams end (close their backlogs first). Idempotent.
  void stop();

  static constexpr int kMaxStreams = 8;
  // The largest request body accepted (413 beyond).
  static constexpr std::size_t kMaxBodyBytes = 4u << 20;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // the server, its thread and the options
};

}  // namespace ccmesh::monitoring
