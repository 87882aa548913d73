#pragma once

namespace ccmesh {

// The version every ccmesh program reports (--version, ping, status, ready).
inline constexpr const char* kVersion = "0.1.0";

}  // namespace ccmesh
