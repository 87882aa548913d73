// Encoding and decoding the two messages every prompt turns into most: a `query` on its
// way in and an `event` (a delta) on its way out.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <span>
#include <zmq.hpp>

#include "../../broker/src/reply_rewrite.hpp"
#include "allocations_per_op.hpp"
#include "ccmesh/common/body_fields.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/worker_messages.hpp"

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

// What the broker does with a worker's `event`: read its id, kind and text, and write the
// client's copy with the client's id. Decoded: as it did for every event (msgpack objects,
// msg::Event, a new buffer); in place: BodyFields and a buffer reused.
void BM_ForwardEventDecoded(benchmark::State& state) {
  const auto frames = framesOf(MessageType::kEvent, typicalEvent());
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    auto envelope = decodeFrames(std::span<const zmq::message_t>(frames));
    auto event = decodeBody<msg::Event>(envelope.value());
    auto copy = broker::rewriteId(envelope.value().body.get(), 7);
    benchmark::DoNotOptimize(event.value().text.size() + copy.size());
  }
  allocations.report();
}

void BM_ForwardEventInPlace(benchmark::State& state) {
  const auto frames = framesOf(MessageType::kEvent, typicalEvent());
  BodyFields event({"seq", "kind", "text"});
  msgpack::sbuffer copy(kEncodeFirstBytes);
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    const bool read = event.read(frames[2].to_string_view()) && event.id() &&
                      event.unsignedField(0) && event.stringField(1) && event.stringField(2);
    event.writeWithId(7, copy);
    benchmark::DoNotOptimize(read + event.stringField(2)->size() + copy.size());
  }
  allocations.report();
}

// What the broker reads of a client's `query`: decoded (msgpack objects, msg::Query with its
// strings), or in place (BodyFields: views into the frame).
void BM_ReadQueryInPlace(benchmark::State& state) {
  const auto frames = framesOf(MessageType::kQuery, typicalQuery());
  BodyFields query({"session", "prompt", "stream", "timeout_ms", "generation"});
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    const bool read = query.read(frames[2].to_string_view()) && query.id() &&
                      query.stringField(0) && query.stringField(1) && query.boolField(2) &&
                      query.unsignedField(3) && query.unsignedField(4);
    benchmark::DoNotOptimize(read + query.stringField(1)->size());
  }
  allocations.report();
}

// A worker's `result` of a query on its way to the client: decoded and re-encoded with the
// client's id (as before), or read in place and copied with the id replaced into the one
// buffer the reply needs.
msg::QueryResult typicalResult() {
  return msg::QueryResult{
      42, "code_reviewer", std::string(400, 'a'), "3f2c9a", "w1", 1200, 0.031, 1500, 420};
}

void BM_RelayResultDecoded(benchmark::State& state) {
  const auto frames = framesOf(MessageType::kResult, typicalResult());
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    auto envelope = decodeFrames(std::span<const zmq::message_t>(frames));
    auto copy = broker::rewriteId(envelope.value().body.get(), 7);
    benchmark::DoNotOptimize(copy.size());
  }
  allocations.report();
}

void BM_RelayResultInPlace(benchmark::State& state) {
  const auto frames = framesOf(MessageType::kResult, typicalResult());
  BodyFields result({"cost_usd", "input_tokens", "output_tokens", "pool"});
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    const bool read = result.read(frames[2].to_string_view()) && result.id() &&
                      result.numberField(0) && result.unsignedField(1) && result.unsignedField(2);
    msgpack::sbuffer copy(std::max(kEncodeFirstBytes, result.size() + 32));
    result.writeWithId(7, copy);
    benchmark::DoNotOptimize(read + copy.size());
  }
  allocations.report();
}

// The worker messages that follow every prompt and every heartbeat interval.
void BM_ReadDeliveredDecoded(benchmark::State& state) {
  decode(state, MessageType::kDelivered, msg::Delivered{41});
}

void BM_ReadDeliveredInPlace(benchmark::State& state) {
  const auto frames = framesOf(MessageType::kDelivered, msg::Delivered{41});
  BodyFields delivered({});
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    const bool read = delivered.read(frames[2].to_string_view());
    benchmark::DoNotOptimize(read + delivered.id().value_or(0));
  }
  allocations.report();
}

void BM_ReadHeartbeatDecoded(benchmark::State& state) {
  decode(state, MessageType::kHeartbeat, msg::Heartbeat{1234, 0, 0});
}

void BM_ReadHeartbeatInPlace(benchmark::State& state) {
  const auto frames = framesOf(MessageType::kHeartbeat, msg::Heartbeat{1234, 0, 0});
  BodyFields beat({"seq", "ack", "term"});
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    const bool read =
        beat.read(frames[2].to_string_view()) && beat.unsignedField(1) && beat.unsignedField(2);
    benchmark::DoNotOptimize(read + beat.unsignedField(0).value_or(0));
  }
  allocations.report();
}

BENCHMARK(BM_EncodeQuery);
BENCHMARK(BM_DecodeQuery);
BENCHMARK(BM_EncodeEvent);
BENCHMARK(BM_DecodeEvent);
BENCHMARK(BM_ForwardEventDecoded);
BENCHMARK(BM_ForwardEventInPlace);
BENCHMARK(BM_ReadQueryInPlace);
BENCHMARK(BM_RelayResultDecoded);
BENCHMARK(BM_RelayResultInPlace);
BENCHMARK(BM_ReadDeliveredDecoded);
BENCHMARK(BM_ReadDeliveredInPlace);
BENCHMARK(BM_ReadHeartbeatDecoded);
BENCHMARK(BM_ReadHeartbeatInPlace);

}  // namespace
}  // namespace ccmesh::bench
