#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::monitoring {

// The latest events of a process, rendered, for the HTTP endpoint's server-sent-event
// streams: the loop publishes (never waits), each stream reads on its own thread from where
// it is. Bounded: the oldest go first, and a stream that fell behind them is told so.
class EventBacklog {
 public:
  // One event as streams send it.
  struct Entry {
    uint64_t seq = 0;     // grows by one or more per event
    std::string session;  // the session it is about (a stream's filter); empty if none
    std::string pool;     // the pool it, or its session, belongs to (a filter); empty if none
    std::string kind;     // its type, e.g. "worker_lost" (the SSE `event:` field)
    std::string data;     // one line, e.g. JSON (the SSE `data:` field)
  };

  // What a reader gets.
  struct Batch {
    // After the reader's position, oldest first; shared with the backlog, not copied.
    std::vector<std::shared_ptr<const Entry>> entries;
    bool missed = false;  // some after its position left the backlog before
    bool closed = false;  // the backlog closed: the stream ends
  };

  explicit EventBacklog(std::size_t capacity) : capacity_(capacity) {}

  // Adds an event (seq must grow). Wakes the readers.
  void publish(Entry entry);

  // While no stream reads, the loop need not render its events: it notes their numbers
  // only, so a stream that comes back learns that it missed some.
  bool hasReaders() const { return readers_.load() > 0; }
  void skip(uint64_t seq);
  void addReader() { readers_.fetch_add(1); }
  void removeReader() { readers_.fetch_sub(1); }

  // The events after `seq`, waiting up to `wait` for one to come.
  Batch after(uint64_t seq, Millis wait);

  // The newest event's seq (0: none yet).
  uint64_t lastSeq() const;

  // Ends every stream (the process stops): readers return at once with `closed`.
  void close();

 private:
  std::size_t capacity_;                              // most events kept
  mutable std::mutex mutex_;                          // guards what follows
  std::condition_variable changed_;                   // an event came, or it closed
  std::deque<std::shared_ptr<const Entry>> entries_;  // oldest first
  uint64_t last_seq_ = 0;                             // the newest event's seq, stored or skipped
  std::atomic<int> readers_{0};                       // streams reading now
  bool closed_ = false;                               // close() was called
};

}  // namespace ccmesh::monitoring
