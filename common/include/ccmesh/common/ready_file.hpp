#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ccmesh {

// Writes what a process bound, for whoever started it (tests use wildcard ports and wait
// for this file): one `key=value` line per entry (the broker: frontend, backend and http;
// the worker: http). Written to PATH.tmp and renamed, so a reader never sees half a file.
// Entries with an empty value are left out. Throws ConfigError on failure.
void writeReadyFile(const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& entries);

}  // namespace ccmesh
