#include "broker_link.hpp"

#include <algorithm>

#include "ccmesh/common/endpoint_list.hpp"
#include "ccmesh/common/socket_io.hpp"

namespace ccmesh::worker {

BrokerLink::BrokerLink(zmq::context_t& context, const std::string& endpoints, std::string worker_id,
                       Millis heartbeat, uint32_t liveness, const Clock& clock,
                       std::shared_ptr<spdlog::logger> log)
    : context_(context),
      endpoints_(splitEndpoints(endpoints)),
      endpoint_(endpoints_.empty() ? endpoints : endpoints_.front()),
      worker_id_(std::move(worker_id)),
      heartbeat_(heartbeat),
      liveness_(std::max<uint32_t>(1, liveness)),
      clock_(clock),
      log_(std::move(log)),
      reconnect_backoff_(heartbeat),
      lease_(heartbeat * static_cast<int64_t>(liveness_)) {}

bool BrokerLink::redirect(const std::string& leader) {
  if (leader.empty() || leader == endpoint_) return false;
  log_->info("the broker at {} is a standby; the leader is at {}", endpoint_, leader);
  endpoint_ = leader;
  rotate_ = false;
  return true;
}

bool BrokerLink::acceptTerm(uint64_t term) {
  if (term < term_) {
    if (stale_terms_++ % 100 == 0) {
      log_->warn("refused a message of term {} from the broker at {}: term {} is newer", term,
                 endpoint_, term_);
    }
    return false;
  }
  if (term > term_ && term_ != 0) log_->info("the leader's term is {} now", term);
  term_ = term;
  return true;
}

void BrokerLink::connect(msg::Ready ready) {
  const bool first = socket_ == nullptr;
  if (rotate_ && endpoints_.size() > 1) {
    auto at = std::find(endpoints_.begin(), endpoints_.end(), endpoint_);
    endpoint_ =
        endpoints_[at == endpoints_.end() ? 0 : (at - endpoints_.begin() + 1) % endpoints_.size()];
  }
  rotate_ = false;
  ready_refused_ = false;
  not_serving_ = false;
  socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  applyCommonOptions(*socket_);
  if (curve_) applyCurveClient(*socket_, *curve_);
  watch_ = std::make_unique<HandshakeWatch>(context_, *socket_);
  socket_->set(zmq::sockopt::routing_id, worker_id_);
  // Queue nothing for a connection that is not up: while the broker is away, messages wait
  // in queue_, which survives the socket being remade.
  socket_->set(zmq::sockopt::immediate, 1);
  socket_->connect(endpoint_);
  // Heartbeats and session updates queued for the old socket are stale: `ready` carries
  // every session. Final replies, events and `delivered` still go out, after `ready`.
  std::deque<Outgoing> kept;
  queued_bytes_ = 0;
  queued_heartbeats_ = 0;
  for (auto& message : queue_) {
    if (message.type == MessageType::kHeartbeat || message.type == MessageType::kSessionUpdate ||
        message.type == MessageType::kReady) {
      continue;
    }
    queued_bytes_ += message.body.size();
    kept.push_back(std::move(message));
  }
  queue_ = std::move(kept);
  const TimePoint now = clock_.now();
  ready.seq = ++heartbeat_seq_;
  ready.rejoining = welcomed_;
  lease_.noteSent(ready.seq, now);
  awaiting_welcome_ = true;
  auto body = encodeBody(ready);
  queued_bytes_ += body.size();
  queue_.push_front(Outgoing{MessageType::kReady, std::move(body)});
  next_heartbeat_ = now + heartbeat_;
  if (first) {
    reconnect_due_ = now + reconnectSilence();
  } else {
    ++reconnects_;
    reconnect_due_ = now + reconnect_backoff_;
    // Among several brokers, one of them answers: no need to back off far.
    const Millis most = endpoints_.size() > 1 ? heartbeat_ * 2 : kMaxReconnectBackoff;
    reconnect_backoff_ = std::min(reconnect_backoff_ * 2, most);
  }
  log_->info("{} broker at {} as {} ({} sessions held)",
             first ? "connecting to" : "reconnecting to", endpoint_, worker_id_,
             ready.sessions.size());
  flush();
}

void BrokerLink::enqueue(MessageType type, msgpack::sbuffer body) {
  if (queued_bytes_ > kMaxQueuedBytes &&
      (type == MessageType::kEvent || type == MessageType::kHeartbeat ||
       type == MessageType::kSessionUpdate)) {
    if (dropped_++ % 1000 == 0) {
      log_->warn("broker link backed up ({} bytes queued); dropping {} messages", queued_bytes_,
                 messageTypeName(type));
    }
    return;
  }
  queued_bytes_ += body.size();
  if (type == MessageType::kHeartbeat) ++queued_heartbeats_;
  queue_.push_back(Outgoing{type, std::move(body)});
  flush();
}

void BrokerLink::flush() {
  while (!queue_.empty() && socket_) {
    Outgoing& front = queue_.front();
    SendStatus status;
    try {
      status = sendMessage(*socket_, {}, front.type, front.body);
    } catch (const zmq::error_t& e) {
      log_->error("cannot send {} to the broker: {}; dropped", messageTypeName(front.type),
                  e.what());
      status = SendStatus::kSent;
    }
    if (status == SendStatus::kWouldBlock) return;
    queued_bytes_ -= std::min(queued_bytes_, front.body.size());
    if (front.type == MessageType::kHeartbeat && queued_heartbeats_ > 0) --queued_heartbeats_;
    queue_.pop_front();
  }
}

void BrokerLink::notServing() {
  ready_refused_ = true;
  if (not_serving_) return;
  not_serving_ = true;
  if (endpoints_.size() > 1) reconnect_due_ = std::min(reconnect_due_, clock_.now() + heartbeat_);
}

void BrokerLink::noteHeard() {
  if (not_serving_) return;  // a broker that does not serve holds no worker
  reconnect_due_ = clock_.now() + reconnectSilence();
  reconnect_backoff_ = heartbeat_;
}

std::optional<WorkerMeter::Seconds> BrokerLink::acknowledged(uint64_t seq) {
  const std::optional<TimePoint> sent = lease_.acknowledge(seq);
  if (!sent || seq == last_ack_) return std::nullopt;
  last_ack_ = seq;
  return clock_.now() - *sent;
}

std::optional<WorkerMeter::Seconds> BrokerLink::adopt(const msg::Welcome& welcome) {
  if (welcome.heartbeat_ms > 0) heartbeat_ = Millis(std::max<uint64_t>(welcome.heartbeat_ms, 10));
  if (welcome.liveness > 0) liveness_ = welcome.liveness;
  log_->info("welcomed by the broker (heartbeat {} ms, liveness {})", heartbeat_.count(),
             liveness_);
  lease_.setDuration(silenceLimit());
  const std::optional<WorkerMeter::Seconds> round_trip = acknowledged(welcome.ack);
  welcomed_ = true;
  awaiting_welcome_ = false;
  not_serving_ = false;
  next_heartbeat_ = std::min(next_heartbeat_, clock_.now() + heartbeat_);
  noteHeard();
  return round_trip;
}

bool BrokerLink::onTimer() {
  if (watch_ && watch_->drain() && watch_->failure()) {
    log_->error("the broker at {} refused this worker's connection: {}", endpoint_,
                *watch_->failure());
  }
  const TimePoint now = clock_.now();
  if (now >= next_heartbeat_) {
    next_heartbeat_ = now + heartbeat_;
    // One heartbeat waiting in the queue is enough; the lease counts from when it was
    // queued, which is no later than when it leaves.
    if (queued_heartbeats_ == 0) {
      lease_.noteSent(++heartbeat_seq_, now);
      send(MessageType::kHeartbeat, msg::Heartbeat{heartbeat_seq_, 0});
    }
  }
  if (now >= reconnect_due_) {
    log_->warn("no word from the broker at {} for a while; reconnecting", endpoint_);
    rotate_ = true;
    return true;
  }
  return false;
}

std::optional<TimePoint> BrokerLink::nextDeadline() const {
  return std::min(next_heartbeat_, reconnect_due_);
}

}  // namespace ccmesh::worker
