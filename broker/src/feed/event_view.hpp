#pragma once

#include <map>
#include <string>

#include "ccmesh/broker/broker_events.hpp"
#include "ccmesh/common/replies.hpp"

namespace ccmesh::broker {

// One broker event as people and feeds see it: what it is about (for filters), one line of
// text, and its fields as strings.
struct EventView {
  std::string session;  // the session it is about; empty if none
  std::string pool;     // the pool it is about; empty if none (members: see the session)
  std::string text;     // e.g. "worker w1 lost (silent for more than 400 ms): 3 session(s)"
  std::map<std::string, std::string> fields;  // every field of the event
};

// Renders an event. Pure.
EventView viewOf(const event::Body& body);

// The event as feeds send it (`watch`, /events): id 0, stamped with the wall clock now.
msg::FeedEvent feedEventOf(const BrokerEvent& event, EventView view);

}  // namespace ccmesh::broker
