// The worker's parse of the CLI's stdout lines: a text delta (the line a streamed answer is
// made of) and an assistant message, through the parser the worker ships (JsonView, no DOM).
#include <benchmark/benchmark.h>

#include <string>

#include "allocations_per_op.hpp"
#include "ccmesh/worker/stream_json_parser.hpp"

namespace ccmesh::bench {
namespace {

// As the CLI prints them (ids shortened to their real lengths' worth of characters).
const std::string kStreamEventLine =
    R"({"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, wor"}},"session_id":"4d7c3b3e-8d3a-4b7e-9a55-1f0e5c2b9a10","parent_tool_use_id":null,"uuid":"c4d4a0e2-e0c2-4835-ba03-4315a4f56fcb"})";
const std::string kAssistantLine =
    R"({"type":"assistant","message":{"id":"msg_fd29751d13cc650645bd1066","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Here is what I would change in main.cpp: check the return value of open()."}],"stop_reason":"end_turn","usage":{"input_tokens":12,"output_tokens":19}},"parent_tool_use_id":null,"session_id":"4d7c3b3e-8d3a-4b7e-9a55-1f0e5c2b9a10","uuid":"5941459c-1760-47f2-ad9e-852400ea84f1"})";

void parse(benchmark::State& state, const std::string& line, worker::CliEvent::Kind expected) {
  worker::StreamJsonParser parser;
  if (parser.parse(line).kind != expected) {
    state.SkipWithError("the line was not parsed as expected");
    return;
  }
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    auto event = parser.parse(line);
    benchmark::DoNotOptimize(event.text.data());
  }
  allocations.report();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}

void BM_ParseStreamEventLine(benchmark::State& state) {
  parse(state, kStreamEventLine, worker::CliEvent::Kind::kTextDelta);
}
void BM_ParseAssistantLine(benchmark::State& state) {
  parse(state, kAssistantLine, worker::CliEvent::Kind::kAssistant);
}

BENCHMARK(BM_ParseStreamEventLine);
BENCHMARK(BM_ParseAssistantLine);

}  // namespace
}  // namespace ccmesh::bench
