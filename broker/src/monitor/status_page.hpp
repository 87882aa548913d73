#pragma once

#include <string_view>

namespace ccmesh::broker {

// The status page the broker serves at `/`: one self-contained HTML document (CSS and
// JavaScript inline, nothing fetched from elsewhere) that reads /api/status, /api/sessions
// and /api/pools, and follows /events to refresh within a second of a change.
extern const std::string_view kStatusPage;

}  // namespace ccmesh::broker
