#pragma once

#include <string>

namespace ccmesh::broker {

// Writes the bound endpoints for whoever started the broker (tests use wildcard ports and
// wait for this file): `frontend=ENDPOINT`, `backend=ENDPOINT` and, when the HTTP endpoint
// runs, `http=URL`. Written to PATH.tmp and renamed, so a reader never sees half a file.
// Throws ConfigError on failure.
void writeReadyFile(const std::string& path, const std::string& frontend,
                    const std::string& backend, const std::string& http = {});

}  // namespace ccmesh::broker
