#pragma once

#include <cstdint>
#include <string_view>

#include "ccmesh/worker/cli_event.hpp"

namespace ccmesh::worker {

// Turns one stdout line of a stream-json CLI into a CliEvent. Accepts the snake_case keys
// of recorded transcripts and the camelCase keys newer CLIs use (session_id / sessionId,
// is_error / isError, ...). Unknown types are ignored for forward compatibility; lines that
// do not start with '{' are ignored; malformed JSON is reported, never thrown.
//
// Lines go through JsonView, which finds the few fields needed without building a DOM, so
// a 50 MB answer does not stall the worker's loop and a short line costs a few allocations
// (BM_Parse* in docs/BENCHMARKS.md). It is the worker's only JSON parser: what the tests
// and the fuzzer exercise is what ships.
class StreamJsonParser {
 public:
  CliEvent parse(std::string_view line);

  // Lines that started with '{' but were not valid JSON objects.
  uint64_t malformedLines() const { return malformed_; }

 private:
  uint64_t malformed_ = 0;  // count of kMalformed results so far
};

}  // namespace ccmesh::worker
