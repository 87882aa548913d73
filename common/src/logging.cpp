#include "ccmesh/common/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include "ccmesh/common/config_loader.hpp"

namespace ccmesh {

void setupLogging(const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    throw ConfigError("unknown log level '" + level + "'");
  }
  spdlog::set_level(parsed);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %-6n %^%-5l%$ %v");
}

std::shared_ptr<spdlog::logger> componentLogger(const std::string& component) {
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = spdlog::stderr_logger_st(component);
  logger->set_level(spdlog::get_level());
  return logger;
}

}  // namespace ccmesh
