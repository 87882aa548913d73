#include "ccmesh/common/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/json_log_formatter.hpp"

namespace ccmesh {

LogFormat parseLogFormat(const std::string& text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  throw ConfigError("--log-format must be text or json, not '" + text + "'");
}

void setupLogging(const std::string& level, LogFormat format,
                  const std::map<std::string, std::string>& fields) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    throw ConfigError("unknown log level '" + level + "'");
  }
  spdlog::set_level(parsed);
  if (format == LogFormat::kJson) {
    // Loggers made from now on get a clone of it, as they would of a pattern.
    spdlog::set_formatter(std::make_unique<JsonLogFormatter>(fields));
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %-6n %^%-5l%$ %v");
  }
}

std::shared_ptr<spdlog::logger> componentLogger(const std::string& component) {
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = spdlog::stderr_logger_st(component);
  logger->set_level(spdlog::get_level());
  return logger;
}

}  // namespace ccmesh
