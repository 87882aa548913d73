#include "delta_coalescer.hpp"

#include <utility>

namespace ccmesh::worker {

void DeltaCoalescer::add(const msg::Event& delta, TimePoint now, bool link_backlog,
                         std::vector<msg::Event>& out) {
  auto [it, fresh] = queries_.try_emplace(delta.id);
  Query& query = it->second;
  if (fresh) query.next_seq = delta.seq;
  if (query.sent_in_round == 0) {
    out.push_back(next(delta.id, query, delta.text, now));  // the first: never held
    return;
  }
  if (!query.held.empty() && query.held.size() + delta.text.size() > settings_.max_bytes) {
    out.push_back(next(delta.id, query, std::exchange(query.held, {}), now));
  }
  const bool idle =
      !link_backlog && query.sent_in_round != round_ && now - query.last_sent >= settings_.window;
  if (query.held.empty() && (idle || delta.text.size() >= settings_.max_bytes)) {
    out.push_back(next(delta.id, query, delta.text, now));
    return;
  }
  query.held += delta.text;
}

void DeltaCoalescer::release(TimePoint now, bool link_backlog, std::vector<msg::Event>& out) {
  if (!link_backlog) {
    for (auto& [id, query] : queries_) {
      if (query.held.empty() || now - query.last_sent < settings_.window) continue;
      out.push_back(next(id, query, std::exchange(query.held, {}), now));
    }
  }
  ++round_;
}

std::optional<msg::Event> DeltaCoalescer::take(uint64_t id) {
  auto it = queries_.find(id);
  if (it == queries_.end() || it->second.held.empty()) return std::nullopt;
  Query& query = it->second;
  return next(id, query, std::exchange(query.held, {}), query.last_sent);
}

std::optional<msg::Event> DeltaCoalescer::finish(uint64_t id) {
  std::optional<msg::Event> held = take(id);
  queries_.erase(id);
  return held;
}

void DeltaCoalescer::takeAll(std::vector<msg::Event>& out) {
  for (auto& [id, query] : queries_) {
    if (!query.held.empty()) {
      out.push_back(next(id, query, std::exchange(query.held, {}), query.last_sent));
    }
  }
}

std::optional<TimePoint> DeltaCoalescer::nextRelease() const {
  std::optional<TimePoint> next;
  for (const auto& [id, query] : queries_) {
    if (query.held.empty()) continue;
    const TimePoint due = query.last_sent + settings_.window;
    if (!next || due < *next) next = due;
  }
  return next;
}

std::size_t DeltaCoalescer::holding() const {
  std::size_t count = 0;
  for (const auto& [id, query] : queries_) count += query.held.empty() ? 0 : 1;
  return count;
}

msg::Event DeltaCoalescer::next(uint64_t id, Query& query, std::string text, TimePoint now) {
  query.last_sent = now;
  query.sent_in_round = round_;
  return msg::Event{id, query.next_seq++, "delta", std::move(text)};
}

}  // namespace ccmesh::worker
