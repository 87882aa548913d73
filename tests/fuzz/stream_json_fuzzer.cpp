// libFuzzer target: a CLI's stdout as the worker reads it. The input arrives in chunks of
// fuzzed sizes through a LineReader with a small line cap (so overlong lines are dropped
// mid-stream), and every line goes through the StreamJsonParser the worker ships. Nothing
// may crash or trip a sanitizer; malformed lines are counted, never thrown.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>

#include "ccmesh/worker/line_reader.hpp"
#include "ccmesh/worker/stream_json_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ccmesh::worker;
  FuzzedDataProvider input(data, size);
  const std::size_t max_line = input.ConsumeIntegralInRange<std::size_t>(1, 1 << 14);
  const std::size_t chunk = input.ConsumeIntegralInRange<std::size_t>(1, 4096);
  const std::string bytes = input.ConsumeRemainingBytesAsString();
  LineReader reader(max_line);
  StreamJsonParser parser;
  std::string line;
  auto parse = [&](const std::string& text) { (void)parser.parse(text); };
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    reader.append(std::string_view(bytes).substr(at, chunk));
    while (reader.nextLine(line)) parse(line);
  }
  if (reader.takeRemainder(line)) parse(line);
  (void)reader.takeOverflows();
  return 0;
}
