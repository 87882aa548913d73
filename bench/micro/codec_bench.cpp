// Encoding and decoding the two messages every prompt turns into most: a `query` on its
// way in and an `event` (a delta) on its way out.
#include <benchmark/benchmark.h>

#include <array>
#include <span>
#include <zmq.hpp>

#include "allocations_per_op.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"

namespace ccmesh::bench {
namespace {

msg::Query typicalQuery() {
  return msg::Query{42,   "code_reviewer", "Please review main.cpp and tell me what to fix.",
                    true, 60000,           3};
}

msg::Event typicalEvent() { return msg::Event{42, 17, "delta", "a token-sized piece"}; }

// The three frames a peer sends: ["CCM1"][type][body].
template <class T>
std::array<zmq::message_t, 3> framesOf(MessageType type, const T& body) {
  const auto encoded = encodeBody(body);
  const auto name = messageTypeName(type);
  return {zmq::message_t(kProtocolTag.data(), kProtocolTag.size()),
          zmq::message_t(name.data(), name.size()), zmq::message_t(encoded.data(), encoded.size())};
}

template <class T>
void encode(benchmark::State& state, const T& body) {
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    auto buffer = encodeBody(body);
    benchmark::DoNotOptimize(buffer.data());
  }
  allocations.report();
}

template <class T>
void decode(benchmark::State& state, MessageType type, const T& body) {
  const auto frames = framesOf(type, body);
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    auto envelope = decodeFrames(std::span<const zmq::message_t>(frames));
    auto value = decodeBody<T>(envelope.value());
    benchmark::DoNotOptimize(value.value());
  }
  allocations.report();
}

void BM_EncodeQuery(benchmark::State& state) { encode(state, typicalQuery()); }
void BM_DecodeQuery(benchmark::State& state) { decode(state, MessageType::kQuery, typicalQuery()); }
void BM_EncodeEvent(benchmark::State& state) { encode(state, typicalEvent()); }
void BM_DecodeEvent(benchmark::State& state) { decode(state, MessageType::kEvent, typicalEvent()); }

BENCHMARK(BM_EncodeQuery);
BENCHMARK(BM_DecodeQuery);
BENCHMARK(BM_EncodeEvent);
BENCHMARK(BM_DecodeEvent);

}  // namespace
}  // namespace ccmesh::bench
