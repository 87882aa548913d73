#include "ccmesh/monitoring/http_endpoint.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <stdexcept>
#include <thread>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/monitoring/metric_registry.hpp"

namespace ccmesh::monitoring {
namespace {

constexpr Millis kStreamPoll{1000};    // how often a quiet stream checks for its end
constexpr Millis kStreamQuiet{15000};  // quiet this long: a comment keeps proxies patient
// A stream sends at most this often: the events of a busy moment go out together, in one
// write, rather than waking the stream's thread for each (which cost the broker's process
// more CPU than the events themselves). Well inside the status page's second.
constexpr Millis kStreamGather{100};
constexpr Millis kStartPatience{5000};  // the server thread must be listening within this
constexpr int kListenBacklog = 1024;    // connections waiting to be accepted

uint64_t parseSeq(const std::string& text, uint64_t fallback) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() ? value : fallback;
}

void answer(httplib::Response& response, const HttpEndpoint::Reply& reply) {
  response.status = reply.status;
  response.set_header("Cache-Control", "no-store");
  for (const auto& [name, value] : reply.headers) response.set_header(name, value);
  response.set_content(reply.body, reply.content_type);
}

void answer(httplib::Response& response, int status, std::string_view code,
            std::string_view message) {
  answer(response, HttpEndpoint::error(status, code, message));
}

// The caller a request was let in as: the pre-routing check found its token.
HttpCaller callerOf(const HttpTokens& tokens, const httplib::Request& request) {
  if (tokens.empty()) return HttpCaller{};
  const HttpCaller* caller = tokens.find(request.get_header_value("Authorization"));
  return caller != nullptr ? *caller : HttpCaller{ClientRole::kQuery, "unknown"};
}

}  // namespace

struct HttpEndpoint::Impl {
  HttpOptions options;                     // as given
  HttpAddress address;                     // where to bind
  HttpTokens tokens;                       // accepted bearer tokens; empty: none needed
  std::shared_ptr<spdlog::logger> logger;  // the owner's logger
  httplib::Server server;                  // the endpoint
  std::thread thread;                      // runs server.listen_after_bind()
  std::atomic<int> streams{0};             // event streams open now
  int listen_fd = -1;                      // the listening socket, once made
};

HttpEndpoint::HttpEndpoint(HttpOptions options, std::shared_ptr<spdlog::logger> logger)
    : impl_(std::make_unique<Impl>()) {
  impl_->address = parseHttpAddress(options.listen, "http");
  if (!options.token_file.empty()) impl_->tokens = HttpTokens::load(options.token_file);
  impl_->options = std::move(options);
  impl_->logger = std::move(logger);
  auto& server = impl_->server;
  // Streams hold a thread each; the rest of the pool keeps answering the other routes.
  // Long requests (queries) too, each while it waits.
  const std::size_t threads = kMaxStreams + 4 + options.long_requests;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(kMaxBodyBytes);
  // Answers go out as they are written (headers, then each event): no waiting for an ACK.
  server.set_tcp_nodelay(true);
  server.set_keep_alive_timeout(5);
  server.set_read_timeout(std::chrono::seconds(5));
  server.set_write_timeout(std::chrono::seconds(5));
  server.set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        if (impl_->tokens.empty() ||
            impl_->tokens.find(request.get_header_value("Authorization")) != nullptr) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        response.set_header("WWW-Authenticate", "Bearer");
        answer(response, 401, "unauthorized",
               "this endpoint needs the header `Authorization: Bearer <token>`");
        return httplib::Server::HandlerResponse::Handled;
      });
  server.set_exception_handler(
      [this](const httplib::Request& request, httplib::Response& response, std::exception_ptr e) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& error) {
          what = error.what();
        } catch (...) {
        }
        impl_->logger->warn("http {} {}: {}", request.method, request.path, what);
        answer(response, 500, "internal", "the request failed; see the log");
      });
  server.set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return;
    if (response.status == 404) answer(response, 404, "not_found", "no such path");
    if (response.status == 413) {
      answer(response, 413, "bad_request",
             "the body is larger than " + std::to_string(kMaxBodyBytes) + " bytes");
    }
  });
}

HttpEndpoint::~HttpEndpoint() { stop(); }

HttpEndpoint::Reply HttpEndpoint::json(const Json& body) {
  return Reply{200, "application/json", jsonText(body) + "\n"};
}

HttpEndpoint::Reply HttpEndpoint::error(int status, std::string_view code,
                                        std::string_view message) {
  return Reply{status, "application/json",
               jsonText(Json{{"error", code}, {"message", message}}) + "\n"};
}

HttpEndpoint::Reply HttpEndpoint::fromLoop(LoopMailbox& mailbox, std::function<Reply()> make) {
  // The loop may run the job after this gave up waiting: it writes to a reply it shares.
  auto made = std::make_shared<Reply>();
  const bool answered = mailbox
                            .ask(
                                [made, make = std::move(make)] {
                                  *made = make();
                                  return std::string();
                                },
                                kLoopPatience)
                            .has_value();
  if (answered) return std::move(*made);
  return Reply{503, "application/json",
               "{\"error\":\"unavailable\",\"message\":\"the event loop did not answer "
               "within " +
                   std::to_string(kLoopPatience.count()) + " ms\"}\n"};
}

void HttpEndpoint::get(const std::string& path, Handler handler) {
  impl_->server.Get(path, [handler = std::move(handler)](const httplib::Request& request,
                                                         httplib::Response& response) {
    Params params;
    for (const auto& [key, value] : request.params) params[key] = value;
    answer(response, handler(params));
  });
}

void HttpEndpoint::route(const std::string& method, const std::string& pattern, Route route) {
  auto handler = [this, route = std::move(route)](const httplib::Request& request,
                                                  httplib::Response& response) {
    Request in;
    for (std::size_t i = 1; i < request.matches.size(); ++i) {
      in.captures.push_back(request.matches[i].str());  // the path is decoded already
    }
    for (const auto& [key, value] : request.params) in.params[key] = value;
    in.body = request.body;
    in.content_type = request.get_header_value("Content-Type");
    in.accept = request.get_header_value("Accept");
    in.caller = callerOf(impl_->tokens, request);
    Answer out = route(in);
    if (!out.stream) {
      answer(response, out.reply);
      return;
    }
    response.status = 200;
    response.set_header("Cache-Control", "no-store");
    for (const auto& [name, value] : out.reply.headers) response.set_header(name, value);
    response.set_chunked_content_provider(out.stream_type, [stream = std::move(out.stream)](
                                                               size_t, httplib::DataSink& sink) {
      stream([&sink](std::string_view piece) { return sink.write(piece.data(), piece.size()); });
      sink.done();
      return true;
    });
  };
  auto& server = impl_->server;
  if (method == "GET") {
    server.Get(pattern, std::move(handler));
  } else if (method == "POST") {
    server.Post(pattern, std::move(handler));
  } else if (method == "DELETE") {
    server.Delete(pattern, std::move(handler));
  } else if (method == "PUT") {
    server.Put(pattern, std::move(handler));
  } else {
    throw std::invalid_argument("HttpEndpoint::route: unsupported method " + method);
  }
}

void HttpEndpoint::health(const std::string& path, LoopMailbox& mailbox) {
  get(path, [&mailbox](const Params&) {
    return fromLoop(mailbox, [] { return json({{"status", "ok"}}); });
  });
}

void HttpEndpoint::metrics(const std::string& path, LoopMailbox& mailbox,
                           std::function<void()> sample, std::function<std::string()> render) {
  get(path, [&mailbox, sample = std::move(sample), render = std::move(render)](const Params&) {
    const Reply sampled = fromLoop(mailbox, [sample] {
      sample();
      return Reply{};
    });
    if (sampled.status != 200) return sampled;
    return Reply{200, kMetricsContentType, render()};
  });
}

void HttpEndpoint::events(const std::string& path, EventBacklog& backlog) {
  impl_->server.Get(
      path, [this, &backlog](const httplib::Request& request, httplib::Response& response) {
        if (impl_->streams.fetch_add(1) >= kMaxStreams) {
          impl_->streams.fetch_sub(1);
          answer(response, 503, "busy",
                 "too many event streams open (" + std::to_string(kMaxStreams) + ")");
          return;
        }
        backlog.addReader();
        uint64_t from = backlog.lastSeq();
        if (request.has_header("Last-Event-ID")) {
          from = parseSeq(request.get_header_value("Last-Event-ID"), from);
        } else if (request.has_param("after")) {
          from = parseSeq(request.get_param_value("after"), from);
        }
        const std::string session = request.get_param_value("session");
        const std::string pool = request.get_param_value("pool");
        // The stream's state, kept across the provider's calls; its text buffer is reused so
        // that a busy stream does not allocate (and fault in) a fresh one every time.
        struct Stream {
          uint64_t position;
          TimePoint last_write;
          std::string out;
        };
        auto stream = std::make_shared<Stream>(Stream{from, std::chrono::steady_clock::now(), {}});
        response.set_header("Cache-Control", "no-store");
        response.set_chunked_content_provider(
            "text/event-stream",
            [&backlog, stream, session, pool](size_t, httplib::DataSink& sink) {
              const auto since = std::chrono::steady_clock::now() - stream->last_write;
              if (since < kStreamGather) std::this_thread::sleep_for(kStreamGather - since);
              const auto batch = backlog.after(stream->position, kStreamPoll);
              if (batch.closed) {
                sink.done();
                return true;
              }
              std::string& out = stream->out;
              out.clear();
              if (batch.missed) out += "event: missed\ndata: {}\n\n";
              for (const auto& entry : batch.entries) {
                stream->position = entry->seq;
                if (!session.empty() && entry->session != session) continue;
                if (!pool.empty() && entry->pool != pool) continue;
                out.append("id: ").append(std::to_string(entry->seq));
                out.append("\nevent: ").append(entry->kind);
                out.append("\ndata: ").append(entry->data).append("\n\n");
              }
              const auto now = std::chrono::steady_clock::now();
              if (out.empty() && now - stream->last_write >= kStreamQuiet) out = ": quiet\n\n";
              if (out.empty()) return true;
              stream->last_write = now;
              return sink.write(out.data(), out.size());
            },
            [this, &backlog](bool) {
              backlog.removeReader();
              impl_->streams.fetch_sub(1);
            });
      });
}

std::string HttpEndpoint::start() {
  auto& server = impl_->server;
  const auto& address = impl_->address;
  int port = address.port;
  // The library listens with a backlog of 5: a burst of clients connecting at once (a
  // web application's pool opening) overflows it and some get reset. Its socket-options
  // hook runs on the socket before bind and listen; listening again once it is bound
  // raises the backlog (Linux updates a listening socket's backlog in place).
  server.set_socket_options([this](socket_t socket) {
    httplib::default_socket_options(socket);
    impl_->listen_fd = socket;
  });
  const bool bound = port == 0 ? (port = server.bind_to_any_port(address.host)) > 0
                               : server.bind_to_port(address.host, port);
  if (!bound) {
    throw ConfigError("--http " + impl_->options.listen +
                      ": cannot bind (address in use, or not of this machine)");
  }
  if (impl_->listen_fd >= 0 && ::listen(impl_->listen_fd, kListenBacklog) != 0) {
    impl_->logger->warn("http: cannot raise the listen backlog to {}", kListenBacklog);
  }
  impl_->thread = std::thread([&server] { server.listen_after_bind(); });
  // stop() before the thread listens would not reach it: wait until it does.
  const auto deadline = std::chrono::steady_clock::now() + kStartPatience;
  while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(1));
  }
  const bool v6 = address.host.find(':') != std::string::npos;
  const std::string url =
      "http://" + (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(port);
  impl_->logger->info("http endpoint on {}{}", url,
                      impl_->tokens.empty() ? "" : " (bearer token required)");
  return url;
}

void HttpEndpoint::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

}  // namespace ccmesh::monitoring
