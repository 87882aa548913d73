#pragma once

#include <chrono>

namespace ccmesh {

using TimePoint = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

// Where time comes from, so heartbeat, lease, retry and timeout logic can be tested by
// moving time instead of sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// The real monotonic clock.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// A clock tests move by hand.
class ManualClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void advance(Millis by) { now_ += by; }

 private:
  TimePoint now_{};  // current simulated time
};

}  // namespace ccmesh
