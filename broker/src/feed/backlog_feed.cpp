#include "feed/backlog_feed.hpp"

namespace ccmesh::broker {

void BacklogFeed::onEvent(const BrokerEvent& event) {
  if (!backlog_.hasReaders()) return backlog_.skip(event.seq);
  const ShownEvents::Shown& shown = shown_.of(event);
  backlog_.publish({event.seq, shown.session, shown.pool, shown.event.kind, shown_.json(event)});
}

}  // namespace ccmesh::broker
