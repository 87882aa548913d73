#pragma once

#include <string>

namespace ccmesh::broker {

// Writes the bound endpoints for whoever started the broker (tests use wildcard ports and
// wait for this file): two lines, `frontend=ENDPOINT` and `backend=ENDPOINT`. Written to
// PATH.tmp and renamed, so a reader never sees half a file. Throws ConfigError on failure.
void writeReadyFile(const std::string& path, const std::string& frontend,
                    const std::string& backend);

}  // namespace ccmesh::broker
