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
  text += data.dump();
  text += "\n\n";
  return text;
}

}  // namespace

QueryStream::QueryStream(LocalClients::Lease client, uint64_t id, TimePoint deadline,
                         std::atomic<std::size_t>& running)
    : client_(std::move(client)), id_(id), deadline_(deadline), running_(running) {}

QueryStream::~QueryStream() {
  if (!ended_) cancel();
  running_.fetch_sub(1);
}

const std::optional<client::Incoming>& QueryStream::first(Millis wait) {
  while (!first_) {
    const Millis left = std::min(wait, until(deadline_));
    auto reply = client_->receive(left);
    if (!reply) break;
    if (reply->id == id_) first_ = std::move(reply);
  }
  if (first_ && first_->type != MessageType::kEvent) ended_ = true;
  return first_;
}

void QueryStream::run(const monitoring::HttpEndpoint::StreamWrite& write) {
  bool peer_gone = false;
  if (first_) {
    const bool final = emit(*first_, write, peer_gone);
    first_.reset();
    if (final) return;
  }
  while (!peer_gone) {
    if (now() >= deadline_) {
      // The broker always answers before this; reaching it means something is badly wrong.
      (void)write(sse("error", errorJson(localError(ErrorCode::kTimeout,
                                                    "no answer from the broker in time"))));
      return;  // the destructor cancels
    }
    auto reply = client_->receive(std::min(kKeepalive, until(deadline_)));
    if (!reply) {
      peer_gone = !write(": keepalive\n\n");
      continue;
    }
    if (reply->id != id_) continue;
    if (emit(*reply, write, peer_gone)) return;
  }
  // The peer went away: the destructor cancels the query.
}

bool QueryStream::emit(const client::Incoming& reply,
                       const monitoring::HttpEndpoint::StreamWrite& write, bool& peer_gone) {
  switch (reply.type) {
    case MessageType::kEvent:
      if (reply.event.kind != "delta") return false;
      peer_gone = !write(sse("delta", Json{{"seq", reply.event.seq}, {"text", reply.event.text}}));
      return false;
    case MessageType::kResult:
      ended_ = true;
      (void)write(sse("result", Json(reply.result)));
      return true;
    default:
      ended_ = true;
      (void)write(sse("error", errorJson(reply.error)));
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
