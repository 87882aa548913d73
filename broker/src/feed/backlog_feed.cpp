#include "feed/backlog_feed.hpp"

#include "ccmesh/common/json_forms.hpp"
#include "feed/event_view.hpp"

namespace ccmesh::broker {

void BacklogFeed::onEvent(const BrokerEvent& event) {
  if (!backlog_.hasReaders()) return backlog_.skip(event.seq);
  EventView view = viewOf(event.body);
  const msg::FeedEvent shown = feedEventOf(event, view);
  std::string pool = view.pool;
  if (pool.empty() && !view.session.empty()) {
    if (const std::string* member_of = pools_.poolOf(view.session)) pool = *member_of;
  }
  backlog_.publish(
      {event.seq, std::move(view.session), std::move(pool), shown.kind, Json(shown).dump()});
}

}  // namespace ccmesh::broker
