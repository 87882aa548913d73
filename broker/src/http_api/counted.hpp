#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace ccmesh::broker {

// One unit of a counter, held for as long as this lives: a query running, a request open.
class Counted {
 public:
  explicit Counted(std::atomic<std::size_t>& counter)
      : counter_(&counter), count_(counter.fetch_add(1) + 1) {}
  Counted(Counted&& other) noexcept
      : counter_(std::exchange(other.counter_, nullptr)), count_(other.count_) {}
  Counted& operator=(Counted&&) = delete;
  ~Counted() {
    if (counter_ != nullptr) counter_->fetch_sub(1);
  }

  // The counter's value when this was taken, this one included.
  std::size_t count() const { return count_; }

 private:
  std::atomic<std::size_t>* counter_;  // null once moved from
  std::size_t count_;
};

}  // namespace ccmesh::broker
