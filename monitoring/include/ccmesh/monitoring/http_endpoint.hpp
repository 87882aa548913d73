#pragma once

#include <spdlog/spdlog.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "ccmesh/common/json_forms.hpp"
#include "ccmesh/monitoring/event_backlog.hpp"
#include "ccmesh/monitoring/http_options.hpp"
#include "ccmesh/monitoring/loop_mailbox.hpp"

namespace ccmesh::monitoring {

// A process's HTTP endpoint (cpp-httplib, on threads of its own): GET routes answered by
// handlers, and server-sent-event streams of an EventBacklog. With a token file every
// request needs `Authorization: Bearer <token>` (401 otherwise). Handlers run on the
// endpoint's threads: they must reach the loop's state through a LoopMailbox.
class HttpEndpoint {
 public:
  // An answer to a GET.
  struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
  };
  // 200 with `body` as JSON.
  static Reply json(const Json& body);
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // the server, its thread and the options
};

}  // namespace ccmesh::monitoring
