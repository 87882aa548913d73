#include "feed/shown_events.hpp"

#include "ccmesh/common/json_forms.hpp"
#include "feed/event_view.hpp"

namespace ccmesh::broker {

const ShownEvents::Shown& ShownEvents::of(const BrokerEvent& event) {
  if (rendered_ && last_.seq == event.seq) return last_;
  EventView view = viewOf(event.body);
  last_.seq = event.seq;
  const std::string* member_of = view.session.empty() ? nullptr : pools_.poolOf(view.session);
  last_.pool = !view.pool.empty() ? view.pool : member_of != nullptr ? *member_of : "";
  last_.own_pool = std::move(view.pool);
  last_.session = std::move(view.session);
  last_.event = feedEventOf(event, std::move(view));
  rendered_ = true;
  packed_ready_ = false;
  json_ready_ = false;
  return last_;
}

const msgpack::sbuffer& ShownEvents::packed(const BrokerEvent& event) {
  const Shown& shown = of(event);
  if (!packed_ready_) {
    packed_.clear();
    msgpack::pack(packed_, shown.event);
    packed_ready_ = true;
  }
  return packed_;
}

const std::string& ShownEvents::json(const BrokerEvent& event) {
  const Shown& shown = of(event);
  if (!json_ready_) {
    json_ = jsonText(Json(shown.event));
    json_ready_ = true;
  }
  return json_;
}

}  // namespace ccmesh::broker
