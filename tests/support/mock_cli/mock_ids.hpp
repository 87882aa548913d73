#pragma once

#include <string>

namespace ccmesh::mock_cli {

// Fresh identifiers and timestamps for messages and transcript entries.

// A random RFC 4122 version 4 UUID in lower-case 8-4-4-4-12 form.
std::string newUuidV4();

// A random Anthropic-style message id ("msg_" followed by hex digits).
std::string newMessageId();

// The current UTC time as ISO 8601 with milliseconds, e.g. 2025-01-02T03:04:05.678Z.
std::string isoTimestampNow();

}  // namespace ccmesh::mock_cli
