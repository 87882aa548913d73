#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::broker {

// Warnings about what peers send (and errors that repeat, such as a full disk), at most
// `per_second` lines a second: a peer flooding garbage must not flood the log. The first line after
// a quiet spell says how many were suppressed.
class RateLimitedLog {
 public:
  RateLimitedLog(std::shared_ptr<spdlog::logger> logger, const Clock& clock,
                 uint32_t per_second = 10)
      : logger_(std::move(logger)), clock_(clock), per_second_(per_second) {}

  template <class... Args>
  void warn(spdlog::format_string_t<Args...> format, Args&&... args) {
    if (!admit()) return;
    logger_->warn(format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void error(spdlog::format_string_t<Args...> format, Args&&... args) {
    if (!admit()) return;
    logger_->error(format, std::forward<Args>(args)...);
  }

 private:
  // True if one more line fits in the current one-second window.
  bool admit() {
    const auto now = clock_.now();
    if (now - window_start_ >= std::chrono::seconds(1)) {
      if (suppressed_ > 0) logger_->warn("{} similar warnings suppressed", suppressed_);
      window_start_ = now;
      in_window_ = 0;
      suppressed_ = 0;
    }
    if (in_window_ < per_second_) {
      ++in_window_;
      return true;
    }
    ++suppressed_;
    return false;
  }

  std::shared_ptr<spdlog::logger> logger_;  // where lines go
  const Clock& clock_;                      // source of the window's time
  uint32_t per_second_;                     // lines allowed per window
  TimePoint window_start_{};                // start of the current window
  uint32_t in_window_ = 0;                  // lines written in the current window
  uint64_t suppressed_ = 0;                 // lines dropped in the current window
};

}  // namespace ccmesh::broker
