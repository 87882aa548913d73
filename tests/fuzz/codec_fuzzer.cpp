// libFuzzer target: the CCM1 codec as a broker, worker or client meets it. The input becomes
// up to ten frames (often with a valid tag and type, so the body decoders are reached), then
// decodeFrames and, when that succeeds, decodeBody of every message type and the session
// options checks. Nothing may crash, leak or trip a sanitizer; errors are values.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/body_fields.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/session_options.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "ccmesh/common/worker_messages.hpp"

namespace {

using namespace ccmesh;

// Wire names a well-formed message may carry.
constexpr std::array<std::string_view, 30> kTypes{
    "query",     "start",     "terminate",   "restart",     "info",          "list",
    "count",     "status",    "ping",        "cancel",      "event",         "result",
    "error",     "ready",     "heartbeat",   "session",     "delivered",     "bye",
    "welcome",   "assign",    "pool_create", "pool_query",  "pool_checkout", "pool_checkin",
    "pool_list", "pool_info", "pool_resize", "pool_delete", "rejoin",        "load"};

template <class T>
void decodeAs(const Envelope& envelope) {
  auto decoded = decodeBody<T>(envelope);
  if (decoded) (void)encodeBody(*decoded);  // what decoded must encode again
}

void decodeEveryBody(const Envelope& envelope) {
  decodeAs<msg::Query>(envelope);
  decodeAs<msg::Cancel>(envelope);
  decodeAs<msg::Start>(envelope);
  decodeAs<msg::Terminate>(envelope);
  decodeAs<msg::Restart>(envelope);
  decodeAs<msg::Info>(envelope);
  decodeAs<msg::Plain>(envelope);
  decodeAs<msg::Event>(envelope);
  decodeAs<msg::ErrorReply>(envelope);
  decodeAs<msg::QueryResult>(envelope);
  decodeAs<msg::Ack>(envelope);
  decodeAs<msg::SessionInfo>(envelope);
  decodeAs<msg::InfoResult>(envelope);
  decodeAs<msg::ListResult>(envelope);
  decodeAs<msg::CountResult>(envelope);
  decodeAs<msg::WorkerInfo>(envelope);
  decodeAs<msg::StatusResult>(envelope);
  decodeAs<msg::PingResult>(envelope);
  decodeAs<msg::SessionUpdate>(envelope);
  decodeAs<msg::SessionReport>(envelope);
  decodeAs<msg::Ready>(envelope);
  decodeAs<msg::Welcome>(envelope);
  decodeAs<msg::Heartbeat>(envelope);
  decodeAs<msg::Assign>(envelope);
  decodeAs<msg::Delivered>(envelope);
  decodeAs<msg::Bye>(envelope);
  decodeAs<msg::Rejoin>(envelope);
  decodeAs<msg::Load>(envelope);
  decodeAs<msg::PoolCreate>(envelope);
  decodeAs<msg::PoolQuery>(envelope);
  decodeAs<msg::PoolCheckout>(envelope);
  decodeAs<msg::PoolCheckin>(envelope);
  decodeAs<msg::PoolNamed>(envelope);
  decodeAs<msg::PoolResize>(envelope);
  decodeAs<msg::PoolMemberInfo>(envelope);
  decodeAs<msg::PoolInfo>(envelope);
  decodeAs<msg::PoolInfoResult>(envelope);
  decodeAs<msg::PoolListResult>(envelope);
  decodeAs<msg::CheckoutResult>(envelope);
  decodeAs<msg::CheckinResult>(envelope);
  // What the broker and worker do with the decoded requests next.
  if (auto start = decodeBody<msg::Start>(envelope)) {
    (void)start->options.validate();
    (void)validateSessionName(start->session);
  }
  if (auto create = decodeBody<msg::PoolCreate>(envelope)) {
    const PoolSpec spec{create->pool, create->size, create->strategy, create->members,
                        create->options};
    (void)spec.validate();
  }
  if (auto named = decodeBody<msg::PoolNamed>(envelope)) (void)validatePoolName(named->pool);
  auto options = SessionOptions::fromObject(envelope.body.get());
  if (options) (void)options->validate();
}

// The value `key` has in a decoded body map (its first pair), or null.
const msgpack::object* valueIn(const msgpack::object& map, std::string_view key) {
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& pair = map.via.map.ptr[i];
    if (pair.key.type == msgpack::type::STR &&
        std::string_view(pair.key.via.str.ptr, pair.key.via.str.size) == key) {
      return &pair.val;
    }
  }
  return nullptr;
}

// What the broker reads in place (BodyFields) must be what decoding would have read: a body it
// accepts decodes with the same fields as an event, a query or a result, and its rewritten
// copy decodes too.
void readInPlace(std::span<const zmq::message_t> frames, const Envelope* envelope) {
  if (frames.size() != 3 || frames[0].to_string_view() != kProtocolTag ||
      !parseMessageType(frames[1].to_string_view())) {
    return;  // refused before any body is read
  }
  const std::string_view body = frames[2].to_string_view();
  BodyFields event({"seq", "kind", "text"});
  if (!event.read(body)) return;
  if (envelope == nullptr) std::abort();  // accepted what decodeFrames refuses
  const auto id = event.id();
  const auto seq = event.unsignedField(0);
  const auto kind = event.stringField(1);
  const auto text = event.stringField(2);
  if (id && seq && kind && text) {
    msgpack::sbuffer copy;
    event.writeWithId(*id + 1, copy);
    const auto object = msgpack::unpack(copy.data(), copy.size());
    const auto value = object.get().as<msg::Event>();  // throws (a finding) if it does not decode
    if (value.id != *id + 1 || value.seq != *seq || value.kind != *kind || value.text != *text) {
      std::abort();
    }
  }

  BodyFields query({"session", "prompt", "stream", "timeout_ms", "generation"});
  if (!query.read(body)) std::abort();  // the same body, other keys: read alike
  const auto session = query.stringField(0);
  const auto prompt = query.stringField(1);
  const auto stream = query.boolField(2);
  const auto timeout = query.unsignedField(3);
  if (query.id() && session && prompt && stream && timeout && query.unsignedField(4)) {
    const auto decoded = decodeBody<msg::Query>(*envelope);
    if (!decoded || decoded->id != *query.id() || decoded->session != *session ||
        decoded->prompt != *prompt || decoded->stream != *stream ||
        decoded->timeout_ms != *timeout) {
      std::abort();
    }
  }

  BodyFields result({"cost_usd", "input_tokens", "output_tokens", "pool"});
  if (!result.read(body)) std::abort();
  const auto cost = result.numberField(0);
  const auto input = result.unsignedField(1);
  if (result.id() && cost && input && result.unsignedField(2)) {
    const auto& map = envelope->body.get();
    if (const auto* value = valueIn(map, "cost_usd");
        value != nullptr && value->as<double>() != *cost) {
      std::abort();
    }
    if (const auto* value = valueIn(map, "input_tokens");
        value != nullptr && value->as<uint64_t>() != *input) {
      std::abort();
    }
    msgpack::sbuffer copy;
    result.writeWithId(*result.id() + 1, copy, BodyFields::StringOverride{3, "pool"});
    const auto object = msgpack::unpack(copy.data(), copy.size());
    const auto& written = object.get();
    if (written.type != msgpack::type::MAP ||
        written.via.map.size !=
            map.via.map.size + 2 - (valueIn(map, "id") ? 1 : 0) - (valueIn(map, "pool") ? 1 : 0) ||
        valueIn(written, "id")->as<uint64_t>() != *result.id() + 1 ||
        valueIn(written, "pool")->as<std::string>() != "pool") {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const bool well_formed_head = input.ConsumeBool();
  const std::size_t count = input.ConsumeIntegralInRange<std::size_t>(0, 10);
  std::vector<zmq::message_t> frames;
  if (well_formed_head) {
    frames.emplace_back(kProtocolTag.data(), kProtocolTag.size());
    const auto type = kTypes[input.ConsumeIntegralInRange<std::size_t>(0, kTypes.size() - 1)];
    frames.emplace_back(type.data(), type.size());
  }
  for (std::size_t i = 0; i < count; ++i) {
    const bool last = i + 1 == count;
    const std::string bytes =
        last ? input.ConsumeRemainingBytesAsString() : input.ConsumeRandomLengthString(1 << 16);
    frames.emplace_back(bytes.data(), bytes.size());
  }
  auto envelope = decodeFrames(frames);
  if (envelope) decodeEveryBody(*envelope);
  readInPlace(frames, envelope ? &envelope.value() : nullptr);
  return 0;
}
