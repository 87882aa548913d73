#include "feed/watch_feed.hpp"

#include <vector>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/replies.hpp"
#include "feed/event_view.hpp"

namespace ccmesh::broker {

WatchFeed::WatchFeed(PeerSender& sender, const PoolRegistry& pools, std::size_t queue_limit)
    : sender_(sender), pools_(pools), queue_limit_(queue_limit) {}

void WatchFeed::watch(const std::string& client, const msg::Watch& watch) {
  watchers_[{client, watch.id}] = Watcher{watch.session, watch.pool, {}};
}

bool WatchFeed::cancel(const std::string& client, uint64_t id) {
  if (watchers_.erase({client, id}) == 0) return false;
  sender_.toClient(client, MessageType::kError,
                   encodeBody(msg::ErrorReply{id,
                                              std::string(errorCodeName(ErrorCode::kCancelled)),
                                              "watch cancelled by the client",
                                              {},
                                              {}}));
  return true;
}

void WatchFeed::clientLost(const std::string& client) {
  for (auto it = watchers_.lower_bound({client, 0});
       it != watchers_.end() && it->first.first == client;) {
    it = watchers_.erase(it);
  }
}

void WatchFeed::onEvent(const BrokerEvent& event) {
  if (watchers_.empty()) return;
  const EventView view = viewOf(event.body);
  const std::string* member_of = view.session.empty() ? nullptr : pools_.poolOf(view.session);
  msg::FeedEvent shown = feedEventOf(event, view);
  std::vector<Key> cut;
  for (auto& [key, watcher] : watchers_) {
    if (!watcher.session.empty() && watcher.session != view.session) continue;
    if (!watcher.pool.empty() && watcher.pool != view.pool &&
        (member_of == nullptr || *member_of != watcher.pool)) {
      continue;
    }
    shown.id = key.second;
    auto body = encodeBody(shown);
    if (!deliver(key, watcher, &body)) cut.push_back(key);
  }
  for (const auto& key : cut) cutOff(key);
}

bool WatchFeed::deliver(const Key& key, Watcher& watcher, msgpack::sbuffer* body) {
  while (!watcher.queue.empty() &&
         sender_.offerToClient(key.first, MessageType::kEvent, watcher.queue.front())) {
    watcher.queue.pop_front();
  }
  if (body == nullptr) return true;
  if (watcher.queue.empty() && sender_.offerToClient(key.first, MessageType::kEvent, *body)) {
    return true;
  }
  if (watcher.queue.size() >= queue_limit_) return false;
  watcher.queue.push_back(std::move(*body));
  return true;
}

void WatchFeed::cutOff(const Key& key) {
  const std::size_t behind = watchers_.at(key).queue.size();
  watchers_.erase(key);
  sender_.toClient(key.first, MessageType::kError,
                   encodeBody(msg::ErrorReply{
                       key.second,
                       std::string(errorCodeName(ErrorCode::kBusy)),
                       "watch cut off: this client did not read its events fast enough (" +
                           std::to_string(behind) + " waiting); watch again to go on from now",
                       {},
                       {}}));
}

void WatchFeed::flush() {
  for (auto& [key, watcher] : watchers_) deliver(key, watcher, nullptr);
}

bool WatchFeed::hasBacklog() const {
  for (const auto& [key, watcher] : watchers_) {
    if (!watcher.queue.empty()) return true;
  }
  return false;
}

}  // namespace ccmesh::broker
