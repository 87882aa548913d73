#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ccmesh::mock_cli {

// Every JSON value the mock prints keeps its keys in insertion order, like the real CLI.
using Json = nlohmann::ordered_json;

// Compact one-line JSON; invalid UTF-8 (from argv or the environment) becomes U+FFFD.
std::string dumpCompact(const Json& value);

// Writes NDJSON lines to a file descriptor with blocking full writes that survive partial
// writes and EINTR. When the reader has gone (EPIPE) the process exits quietly with status 0.
class OutputWriter {
 public:
  explicit OutputWriter(int fd) : fd_(fd) {}

  // Writes `message` as one line.
  void writeLine(const Json& message);

  // Writes `message` as one line, except that the string value equal to `placeholder` is
  // replaced by the bytes `write_body` writes (which must be valid JSON string content).
  // Lets multi-megabyte texts be streamed without building them in memory.
  void writeLineWithBody(const Json& message, std::string_view placeholder,
                         const std::function<void()>& write_body);

  // Writes bytes as they are.
  void writeRaw(std::string_view bytes);

 private:
  int fd_;
};

}  // namespace ccmesh::mock_cli
