#pragma once

#include <functional>
#include <string>

#include "ccmesh/common/clock.hpp"

namespace ccmesh::test {

// The one generous deadline a test waits for anything observable; a test that needs it is
// broken or the machine is badly overloaded.
inline constexpr Millis kEventDeadline{20000};

// Polls `condition` until it holds or `deadline` passes. Returns true if it held; on
// failure the caller's assertion should print `what`.
bool waitFor(const std::function<bool()>& condition, Millis deadline = kEventDeadline);

}  // namespace ccmesh::test
