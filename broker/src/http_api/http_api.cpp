#include "http_api/http_api.hpp"

#include "ccmesh/common/json_forms.hpp"
#include "http_api/counted.hpp"
#include "http_api/http_errors.hpp"
#include "http_api/query_stream.hpp"

namespace ccmesh::broker {
namespace {

using monitoring::HttpEndpoint;
using Reply = HttpEndpoint::Reply;

// The route's answer as a whole reply.
HttpEndpoint::Answer whole(Reply reply) { return HttpEndpoint::Answer{std::move(reply)}; }

HttpEndpoint::Answer failed(ErrorCode code, std::string message) {
  return whole(errorReply(localError(code, std::move(message))));
}

// The request's body as a JSON object, or the bad_request to answer.
Expected<Json, client::ReplyError> bodyObject(const HttpEndpoint::Request& request) {
  if (request.body.empty()) return Json::object();
  Json body = Json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return localError(ErrorCode::kBadRequest, "the body must be a JSON object");
  }
  return body;
}

// A 403 unless the caller holds the admin role.
std::optional<HttpEndpoint::Answer> needAdmin(const HttpEndpoint::Request& request,
                                              std::string_view what) {
  if (request.caller.role == ClientRole::kAdmin) return std::nullopt;
  Reply reply = errorReply(
      localError(ErrorCode::kUnauthorized, "token " + request.caller.name + " has role " +
                                               std::string(roleName(request.caller.role)) + "; " +
                                               std::string(what) + " needs the admin role"));
  reply.status = 403;
  return whole(std::move(reply));
}

bool wantsStream(const HttpEndpoint::Request& request, const Json& body) {
  if (request.accept.find("text/event-stream") != std::string::npos) return true;
  const auto stream = body.find("stream");
  return stream != body.end() && stream->is_boolean() && stream->get<bool>();
}

template <class T>
HttpEndpoint::Answer answerOf(const client::Reply<T>& reply, int status = 200) {
  if (!reply.ok()) return whole(errorReply(reply.error()));
  Reply out = HttpEndpoint::json(Json(reply.value()));
  out.status = status;
  return whole(std::move(out));
}

}  // namespace

HttpApi::HttpApi(zmq::context_t& context, std::string local_endpoint, Limits limits)
    : clients_(context, std::move(local_endpoint), limits.patience, limits.query_grace),
      limits_(limits) {}

HttpApi::~HttpApi() = default;

void HttpApi::serveOn(monitoring::HttpEndpoint& endpoint) {
  endpoint.route("POST", R"(/api/sessions/(.+)/query)",
                 [this](const Request& request) { return query(request, false); });
  endpoint.route("POST", R"(/api/pools/(.+)/query)",
                 [this](const Request& request) { return query(request, true); });
  endpoint.route("GET", R"(/api/sessions/(.+))",
                 [this](const Request& request) { return info(request); });
  endpoint.route("POST", R"(/api/sessions)",
                 [this](const Request& request) { return start(request); });
  endpoint.route("DELETE", R"(/api/sessions/(.+))",
                 [this](const Request& request) { return terminate(request); });
}

std::optional<HttpApi::Answer> HttpApi::refuse() const {
  if (limits_.locked) {
    Reply reply = errorReply(
        localError(ErrorCode::kUnauthorized,
                   "this broker runs CURVE: its HTTP API needs --http-token-file, so that callers "
                   "have roles"));
    reply.status = 403;
    return whole(std::move(reply));
  }
  if (closing_) return failed(ErrorCode::kUnavailable, "the broker is stopping");
  return std::nullopt;
}

HttpApi::Answer HttpApi::query(const Request& request, bool pool) {
  Counted open(open_);
  if (auto refused = refuse()) return std::move(*refused);
  auto body = bodyObject(request);
  if (!body.ok()) return whole(errorReply(body.error()));
  const Json& fields = body.value();
  const auto prompt = fields.find("prompt");
  if (prompt == fields.end() || !prompt->is_string()) {
    return failed(ErrorCode::kBadRequest, "the body needs \"prompt\": a string");
  }
  client::QueryOptions options;
  if (const auto timeout = fields.find("timeout_ms"); timeout != fields.end()) {
    if (!timeout->is_number_unsigned() || timeout->get<uint64_t>() > kMaxTimeoutMs) {
      return failed(ErrorCode::kBadRequest,
                    "\"timeout_ms\" must be an integer from 0 to " + std::to_string(kMaxTimeoutMs));
    }
    options.timeout = Millis(timeout->get<uint64_t>());
  }
  const std::string& name = request.captures.at(0);
  Counted running(running_);
  if (running.count() > limits_.max_queries) {
    return failed(ErrorCode::kBusy, std::to_string(limits_.max_queries) +
                                        " HTTP queries are running; the limit is "
                                        "--http-max-queries");
  }
  auto client = clients_.acquire();
  const std::string& text = prompt->get_ref<const std::string&>();
  if (!wantsStream(request, fields)) {
    const std::function<bool()> stopping = [this] { return closing_.load(); };
    options.should_cancel = stopping;
    auto reply = pool ? client->poolQuery(name, text, options) : client->query(name, text, options);
    if (!reply.ok() && closing_ && reply.error().code == ErrorCode::kCancelled) {
      return failed(ErrorCode::kUnavailable, "the broker is stopping");
    }
    return answerOf(reply);
  }
  options.stream = true;
  const uint64_t id =
      pool ? client->sendPoolQuery(name, text, options) : client->sendQuery(name, text, options);
  const Millis patience =
      options.timeout > Millis{0} ? options.timeout + limits_.query_grace : limits_.patience;
  std::vector<Counted> slots;
  slots.push_back(std::move(open));
  slots.push_back(std::move(running));
  auto stream = std::make_shared<QueryStream>(std::move(client), id,
                                              std::chrono::steady_clock::now() + patience,
                                              std::move(slots), closing_);
  const auto& first = stream->first(kCommitWait);
  if (first && first->type == MessageType::kError) return whole(errorReply(first->error));
  Answer answer;
  answer.stream = [stream](const HttpEndpoint::StreamWrite& write) { stream->run(write); };
  return answer;
}

HttpApi::Answer HttpApi::info(const Request& request) {
  Counted open(open_);
  if (auto refused = refuse()) return std::move(*refused);
  auto client = clients_.acquire();
  return answerOf(client->info(request.captures.at(0)));
}

HttpApi::Answer HttpApi::start(const Request& request) {
  Counted open(open_);
  if (auto refused = refuse()) return std::move(*refused);
  if (auto refused = needAdmin(request, "starting a session")) return std::move(*refused);
  auto body = bodyObject(request);
  if (!body.ok()) return whole(errorReply(body.error()));
  const Json& fields = body.value();
  const auto name = fields.find("name");
  if (name == fields.end() || !name->is_string()) {
    return failed(ErrorCode::kBadRequest, "the body needs \"name\": a string");
  }
  SessionOptions options;
  if (const auto given = fields.find("options"); given != fields.end()) {
    auto parsed = sessionOptionsFromJson(*given);
    if (!parsed.ok()) return failed(parsed.error().code, parsed.error().message);
    options = std::move(parsed.value());
  }
  std::string fork_of;  // docs/SESSIONS.md "Forks"
  if (const auto given = fields.find("fork_of"); given != fields.end()) {
    if (!given->is_string()) return failed(ErrorCode::kBadRequest, "\"fork_of\" must be a string");
    fork_of = given->get<std::string>();
  }
  auto client = clients_.acquire();
  return answerOf(client->fork(fork_of, name->get<std::string>(), options), 201);
}

HttpApi::Answer HttpApi::terminate(const Request& request) {
  Counted open(open_);
  if (auto refused = refuse()) return std::move(*refused);
  if (auto refused = needAdmin(request, "terminating a session")) return std::move(*refused);
  auto client = clients_.acquire();
  return answerOf(client->terminate(request.captures.at(0)));
}

}  // namespace ccmesh::broker
