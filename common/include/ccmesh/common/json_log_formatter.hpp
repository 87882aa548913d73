#pragma once

#include <spdlog/formatter.h>

#include <map>
#include <memory>
#include <string>

namespace ccmesh {

// Formats log records as JSON lines (--log-format json), one object a line:
//   {"time":"2026-12-05T09:30:00.123Z","level":"info","component":"worker",
//    "message":"started CLI pid 4242 (--session-id=...)","session":"reviewer","worker":"w1"}
// `time` is UTC, `component` the logger's name. The fields the message names are lifted out
// of it: leading `[session NAME]`, `[worker NAME]`, `[pool NAME]` and `[client NAME]` tags
// become `session`, `worker`, `pool` and `client` (and leave the message), and a request id
// the message mentions (`query 17`, `request 17`, `request id 17`, `(id 17)`) becomes
// `request` (a number). `fixed` fields (the worker's own id) are in every line unless the
// message names its own.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  explicit JsonLogFormatter(std::map<std::string, std::string> fixed = {})
      : fixed_(std::move(fixed)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::map<std::string, std::string> fixed_;  // fields of every line
};

}  // namespace ccmesh
