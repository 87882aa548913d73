#pragma once

#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <string>

namespace ccmesh {

// How log lines look: text for people, JSON lines for log collectors.
enum class LogFormat { kText, kJson };

// "text" or "json"; throws ConfigError naming --log-format otherwise.
LogFormat parseLogFormat(const std::string& text);

// The help text of --log-format, the same for every program.
inline constexpr const char* kLogFormatHelp =
    "text (one line per event: time, component, level, message) or json (one JSON object "
    "a line: time, level, component, message, and session, worker, pool, client and request "
    "where the event names them)";

// Sets up spdlog for a program: one line per event on stderr. Text lines carry time,
// component and level; JSON lines are described by JsonLogFormatter, with `fields` (the
// worker's id) in every one. Throws ConfigError for an unknown level.
void setupLogging(const std::string& level, LogFormat format = LogFormat::kText,
                  const std::map<std::string, std::string>& fields = {});

// The named logger of a component ("broker", "worker", ...), created on first use.
std::shared_ptr<spdlog::logger> componentLogger(const std::string& component);

}  // namespace ccmesh
