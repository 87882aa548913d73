#include "http_api/query_stream.hpp"

#include <algorithm>

#include "ccmesh/common/json_forms.hpp"
#include "http_api/http_errors.hpp"

namespace ccmesh::broker {
namespace {

TimePoint now() { return std::chrono::steady_clock::now(); }

Millis until(TimePoint deadline) {
  return std::max(Millis{0}, std::chrono::ceil<Millis>(deadline - now()));
}

std::string sse(std::string_view event, const Json& data) {
  std::string text = "event: ";
  text += event;
  text += "\ndata: ";
  text += jsonText(data);
  text += "\n\n";
  return text;
}

}  // namespace

QueryStream::QueryStream(LocalClients::Lease client, uint64_t id, TimePoint deadline,
                         std::vector<Counted> slots, const std::atomic<bool>& closing)
    : client_(std::move(client)),
      id_(id),
      deadline_(deadline),
      slots_(std::move(slots)),
      closing_(closing) {}

QueryStream::~QueryStream() {
  if (!ended_) cancel();
}

const std::optional<client::Incoming>& QueryStream::first(Millis wait) {
  while (!first_) {
    const Millis left = std::min(wait, until(deadline_));
    auto reply = client_->receive(left);
    if (!reply) break;
    if (reply->id != id_) continue;
    if (reply->type == MessageType::kPermissionRequest) {
      denyQuestion(*reply);
      continue;
    }
    first_ = std::move(reply);
  }
  if (first_ && first_->type != MessageType::kEvent) ended_ = true;
  return first_;
}

void QueryStream::run(const monitoring::HttpEndpoint::StreamWrite& write) {
  std::string out;  // the events of one write
  bool final = false;
  if (first_) {
    final = render(*first_, out);
    first_.reset();
  }
  while (true) {
    // What is already queued goes out with it, in one write: no wait, fewer packets.
    while (!final && out.size() < kGatherBytes) {
      auto reply = client_->receive(Millis{0});
      if (!reply) break;
      if (reply->id == id_) final = render(*reply, out);
    }
    if (!out.empty() && !write(out)) return;  // the peer went away: the destructor cancels
    if (final) return;
    out.clear();
    if (closing_) {
      (void)write(
          sse("error", errorJson(localError(ErrorCode::kUnavailable, "the broker is stopping"))));
      return;  // the destructor cancels
    }
    if (now() >= deadline_) {
      (void)write(sse("error", errorJson(localError(ErrorCode::kTimeout,
                                                    "no answer from the broker in time"))));
      return;  // the destructor cancels
    }
    auto reply = client_->receive(std::min(kKeepalive, until(deadline_)));
    if (!reply) {
      out = ": keepalive\n\n";
      continue;
    }
    if (reply->id == id_) final = render(*reply, out);
  }
}

void QueryStream::denyQuestion(const client::Incoming& question) {
  client_->answerPermission(
      id_, question.permission.request,
      client::PermissionAnswer::denied("an HTTP caller cannot answer tool questions"));
}

bool QueryStream::render(const client::Incoming& reply, std::string& out) {
  switch (reply.type) {
    case MessageType::kPermissionRequest:
      denyQuestion(reply);
      return false;
    case MessageType::kEvent:
      if (reply.event.kind == "delta") {
        out += sse("delta", Json{{"seq", reply.event.seq}, {"text", reply.event.text}});
      }
      return false;
    case MessageType::kResult:
      ended_ = true;
      out += sse("result", Json(reply.result));
      return true;
    default:
      ended_ = true;
      out += sse("error", errorJson(reply.error));
      return true;
  }
}

void QueryStream::cancel() {
  client_->cancel(id_);
  const TimePoint give_up = now() + kCancelPatience;
  while (now() < give_up) {
    auto reply = client_->receive(until(give_up));
    if (!reply) break;
    if (reply->id == id_ && reply->type != MessageType::kEvent) {
      ended_ = true;
      return;
    }
  }
  client_.discard();  // it may still get the query's replies: never reuse it
}

}  // namespace ccmesh::broker
