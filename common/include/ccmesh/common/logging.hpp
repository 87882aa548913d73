#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace ccmesh {

// Sets up spdlog for a program: one line per event on stderr, with time, component and
// level. Throws ConfigError for an unknown level.
void setupLogging(const std::string& level);

// The named logger of a component ("broker", "worker", ...), created on first use.
std::shared_ptr<spdlog::logger> componentLogger(const std::string& component);

}  // namespace ccmesh
