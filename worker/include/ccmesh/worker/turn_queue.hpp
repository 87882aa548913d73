#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::worker {

// A prompt accepted for a session and not yet written to its CLI.
struct PendingQuery {
  uint64_t id = 0;       // the broker's request id
  std::string prompt;    // the user prompt
  bool stream = false;   // forward deltas as `event` messages
  TimePoint deadline{};  // when it ends with `timeout`, queued or running
  Millis timeout{0};     // the timeout that set the deadline (for messages)
};

// The turn a CLI is running: the query it answers and the text seen so far.
struct RunningTurn {
  uint64_t id = 0;             // the broker's request id
  bool stream = false;         // forward deltas as `event` messages
  TimePoint deadline{};        // when it is interrupted and ends with `timeout`
  Millis timeout{0};           // the timeout that set the deadline
  uint64_t next_seq = 0;       // seq of the next `event`
  std::string deltas;          // text deltas joined
  std::string assistant_text;  // text blocks of assistant messages joined

  // What the client gets as `partial` if the turn fails: the deltas, else the text blocks.
  const std::string& partial() const { return deltas.empty() ? assistant_text : deltas; }
};

// The bounded FIFO of prompts waiting in front of a session's CLI. Holds at most
// At most `max_waiting` prompts; the session answers `busy` once its waiting and running
// prompts together reach its queue depth + 1.
class TurnQueue {
 public:
  explicit TurnQueue(std::size_t max_waiting) : max_waiting_(max_waiting) {}

  bool full() const { return waiting_.size() >= max_waiting_; }
  bool empty() const { return waiting_.empty(); }
  std::size_t size() const { return waiting_.size(); }

  // Appends a prompt; the caller checked full().
  void push(PendingQuery query) { waiting_.push_back(std::move(query)); }
  // Takes the oldest prompt.
  std::optional<PendingQuery> pop();
  // Takes the prompt with this id, wherever it is.
  std::optional<PendingQuery> remove(uint64_t id);
  // Takes every prompt whose deadline is at or before `now`.
  std::vector<PendingQuery> takeExpired(TimePoint now);
  // Takes everything.
  std::vector<PendingQuery> takeAll();
  // The earliest deadline of a waiting prompt.
  std::optional<TimePoint> earliestDeadline() const;

 private:
  std::size_t max_waiting_;          // capacity, besides the running prompt
  std::list<PendingQuery> waiting_;  // oldest first (a list allocates nothing while empty)
};

}  // namespace ccmesh::worker
