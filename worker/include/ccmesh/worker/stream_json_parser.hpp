#pragma once

#include <cstddef>
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
// a 50 MB answer does not stall the worker's loop and a short line costs a third of a DOM
// parse with a tenth of its allocations (docs/BENCHMARKS.md). A parser made with a
// `dom_limit` parses lines up to that many bytes into a nlohmann::json DOM instead. Both
// paths extract the same fields.
class StreamJsonParser {
 public:
  static constexpr std::size_t kDefaultDomLimit = 0;  // no line goes through a DOM

  explicit StreamJsonParser(std::size_t dom_limit = kDefaultDomLimit) : dom_limit_(dom_limit) {}

  CliEvent parse(std::string_view line);

  // Lines that started with '{' but were not valid JSON objects.
  uint64_t malformedLines() const { return malformed_; }

 private:
  std::size_t dom_limit_;   // longest line parsed into a DOM
  uint64_t malformed_ = 0;  // count of kMalformed results so far
};

}  // namespace ccmesh::worker
