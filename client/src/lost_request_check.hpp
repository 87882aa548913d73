#pragma once

#include <cstdint>
#include <string>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/expected.hpp"

namespace ccmesh::client {

// While a call waits for its final reply and the broker has said nothing for `interval`,
// the call asks (a `ping` listing its request id) whether the broker still knows the
// request. A broker that was restarted does not, nor does one that sees this client on a
// new connection: its answer could never come, so the call ends at once with `unavailable`
// instead of waiting for its deadline. A broker that is down answers nothing, and the check
// waits with the call; the ping reaches the broker that comes back.
class LostRequestCheck {
 public:
  // Checks on request `request_id`; an interval of 0 never checks.
  LostRequestCheck(uint64_t request_id, Millis interval, TimePoint now);

  // Something arrived from the broker.
  void heard(TimePoint now) { last_heard_ = now; }
  // A check should go out now.
  bool due(TimePoint now) const;
  // How long the caller may wait before due() can turn true.
  Millis untilDue(TimePoint now) const;
  // A check went out as ping `ping_id`.
  void sent(uint64_t ping_id, TimePoint now) {
    ping_id_ = ping_id;
    ping_sent_ = now;
  }
  // The check sent has had no answer for an interval: the broker is down (or was never
  // reached). The caller may try another broker and check again there.
  bool unanswered(TimePoint now) const { return ping_id_ != 0 && now - ping_sent_ >= interval_; }
  // How long until unanswered() can turn true (Millis::max() with no check out).
  Millis untilUnanswered(TimePoint now) const;
  // Forgets the check sent (it went to a broker given up on); due() counts from `now`.
  void abandon(TimePoint now) {
    ping_id_ = 0;
    last_heard_ = now;
  }
  // Id of the ping whose answer is awaited; 0: none.
  uint64_t outstanding() const { return ping_id_; }
  // The answer to the check arrived; true if the broker does not know the request.
  bool lost(const Expected<Envelope, DecodeError>& answer);

  // The final reply a lost request ends with: `unavailable`, with the text seen so far.
  static Expected<Envelope, DecodeError> lostReply(uint64_t request_id, const std::string& broker,
                                                   const std::string& partial);

 private:
  uint64_t request_id_;    // the request checked on
  Millis interval_;        // silence before a check
  TimePoint last_heard_;   // when the broker last sent anything
  uint64_t ping_id_ = 0;   // see outstanding()
  TimePoint ping_sent_{};  // when it went out
};

}  // namespace ccmesh::client
