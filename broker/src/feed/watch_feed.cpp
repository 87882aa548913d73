#include "feed/watch_feed.hpp"

#include <string_view>
#include <vector>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/replies.hpp"

namespace ccmesh::broker {
namespace {

// A batch goes out once it holds this many events or bytes, gathered long enough or not.
constexpr std::size_t kBatchEvents = 1000;
constexpr std::size_t kBatchBytes = 256 * 1024;

void packKey(msgpack::packer<msgpack::sbuffer>& packer, std::string_view key) {
  packer.pack_str(static_cast<uint32_t>(key.size()));
  packer.pack_str_body(key.data(), static_cast<uint32_t>(key.size()));
}

}  // namespace

WatchFeed::WatchFeed(PeerSender& sender, ShownEvents& shown, std::size_t queue_limit, Millis gather)
    : sender_(sender), shown_(shown), queue_limit_(queue_limit), gather_(gather) {}

void WatchFeed::watch(const std::string& client, const msg::Watch& watch) {
  // A new key: a running watch's id is refused as a duplicate before it comes here.
  Watcher& watcher = watchers_[{client, watch.id}];
  watcher.session = watch.session;
  watcher.pool = watch.pool;
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
  const ShownEvents::Shown& shown = shown_.of(event);
  std::optional<SteadyTime> now;
  std::vector<Key> cut;
  for (auto& [key, watcher] : watchers_) {
    if (!watcher.session.empty() && watcher.session != shown.session) continue;
    if (!watcher.pool.empty() && watcher.pool != shown.own_pool && watcher.pool != shown.pool) {
      continue;
    }
    Gathered& gathered = watcher.gathered;
    if (gathered.count == 0) {
      if (!now) now = std::chrono::steady_clock::now();
      gathered.since = *now;
    }
    const msgpack::sbuffer& packed = shown_.packed(event);
    gathered.events.write(packed.data(), packed.size());
    ++gathered.count;
    const bool full = gathered.count >= kBatchEvents || gathered.events.size() >= kBatchBytes;
    if (full && !send(key, watcher)) cut.push_back(key);
  }
  for (const auto& key : cut) cutOff(key);
}

bool WatchFeed::send(const Key& key, Watcher& watcher) {
  Gathered& gathered = watcher.gathered;
  // A FeedBatch, its events copied as they were packed: {"id": id, "events": [...]}.
  Queued batch{msgpack::sbuffer(gathered.events.size() + 32), gathered.count};
  msgpack::packer<msgpack::sbuffer> packer(batch.body);
  packer.pack_map(2);
  packKey(packer, "id");
  packer.pack(key.second);
  packKey(packer, "events");
  packer.pack_array(static_cast<uint32_t>(gathered.count));
  batch.body.write(gathered.events.data(), gathered.events.size());
  gathered.events.clear();
  gathered.count = 0;
  return deliver(key, watcher, &batch);
}

bool WatchFeed::deliver(const Key& key, Watcher& watcher, Queued* batch) {
  while (!watcher.queue.empty() &&
         sender_.offerToClient(key.first, MessageType::kEvent, watcher.queue.front().body)) {
    watcher.queued -= watcher.queue.front().events;
    watcher.queue.pop_front();
  }
  if (batch == nullptr) return true;
  if (watcher.queue.empty() && sender_.offerToClient(key.first, MessageType::kEvent, batch->body)) {
    return true;
  }
  if (watcher.queued + batch->events > queue_limit_) return false;
  watcher.queued += batch->events;
  watcher.queue.push_back(std::move(*batch));
  return true;
}

void WatchFeed::cutOff(const Key& key) {
  const Watcher& watcher = watchers_.at(key);
  const std::size_t behind = watcher.queued + watcher.gathered.count;
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

void WatchFeed::flush() { flush(false); }

void WatchFeed::flushAll() { flush(true); }

void WatchFeed::flush(bool all) {
  const SteadyTime now = std::chrono::steady_clock::now();
  std::vector<Key> cut;
  for (auto& [key, watcher] : watchers_) {
    const bool due = watcher.gathered.count > 0 && (all || now - watcher.gathered.since >= gather_);
    if (!(due ? send(key, watcher) : deliver(key, watcher, nullptr))) cut.push_back(key);
  }
  for (const auto& key : cut) cutOff(key);
}

std::optional<WatchFeed::SteadyTime> WatchFeed::nextFlush() const {
  std::optional<SteadyTime> next;
  for (const auto& [key, watcher] : watchers_) {
    if (watcher.gathered.count == 0) continue;
    const SteadyTime due = watcher.gathered.since + gather_;
    if (!next || due < *next) next = due;
  }
  return next;
}

bool WatchFeed::hasBacklog() const {
  for (const auto& [key, watcher] : watchers_) {
    if (!watcher.queue.empty()) return true;
  }
  return false;
}

}  // namespace ccmesh::broker
