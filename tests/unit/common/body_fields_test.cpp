#include "ccmesh/common/body_fields.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"

namespace ccmesh {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

// A body written pair by pair with `write`, whose map header says `pairs`.
std::string body(uint32_t pairs, const std::function<void(Packer&)>& write) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  packer.pack_map(pairs);
  write(packer);
  return std::string(buffer.data(), buffer.size());
}

std::string view(const msgpack::sbuffer& buffer) { return {buffer.data(), buffer.size()}; }

// The map `bytes` hold, as a msgpack object kept alive by `handle`.
const msgpack::object& unpacked(const std::string& bytes, msgpack::object_handle& handle) {
  handle = msgpack::unpack(bytes.data(), bytes.size());
  return handle.get();
}

TEST(BodyFields, ReadsTheIdOfEveryIntegerWidth) {
  const std::vector<std::pair<std::function<void(Packer&)>, uint64_t>> ids{
      {[](Packer& p) { p.pack(uint64_t{7}); }, 7},  // positive fixint
      {[](Packer& p) { p.pack_fix_uint8(200); }, 200},
      {[](Packer& p) { p.pack_fix_uint16(60000); }, 60000},
      {[](Packer& p) { p.pack_fix_uint32(4000000000u); }, 4000000000u},
      {[](Packer& p) { p.pack_fix_uint64(UINT64_MAX); }, UINT64_MAX},
      {[](Packer& p) { p.pack_fix_int8(100); }, 100},
      {[](Packer& p) { p.pack_fix_int16(30000); }, 30000},
      {[](Packer& p) { p.pack_fix_int32(2000000000); }, 2000000000},
      {[](Packer& p) { p.pack_fix_int64(INT64_MAX); }, uint64_t{INT64_MAX}},
  };
  for (const auto& [write_id, expected] : ids) {
    const std::string bytes = body(1, [&](Packer& p) {
      p.pack(std::string_view("id"));
      write_id(p);
    });
    BodyFields fields({});
    ASSERT_TRUE(fields.read(bytes)) << expected;
    ASSERT_TRUE(fields.id().has_value()) << expected;
    EXPECT_EQ(*fields.id(), expected);
  }
}

TEST(BodyFields, ANegativeIdIsNotAnId) {
  for (int64_t id : {int64_t{-1}, int64_t{-200}, INT64_MIN}) {
    const std::string bytes = body(1, [&](Packer& p) {
      p.pack(std::string_view("id"));
      p.pack(id);
    });
    BodyFields fields({});
    ASSERT_TRUE(fields.read(bytes));
    EXPECT_FALSE(fields.id().has_value()) << id;
  }
}

TEST(BodyFields, ReadsAnEventsFieldsInPlace) {
  const auto encoded = encodeBody(msg::Event{41, 3, "delta", "héllo"});
  BodyFields fields({"seq", "kind", "text"});
  ASSERT_TRUE(fields.read(std::string_view(encoded.data(), encoded.size())));
  EXPECT_EQ(fields.id(), 41u);
  EXPECT_EQ(fields.unsignedField(0), 3u);
  EXPECT_EQ(fields.stringField(1), "delta");
  EXPECT_EQ(fields.stringField(2), "héllo");
  const char* begin = encoded.data();
  const char* end = begin + encoded.size();
  EXPECT_TRUE(fields.stringField(2)->data() >= begin && fields.stringField(2)->data() < end)
      << "a view into the body, not a copy";
}

TEST(BodyFields, AbsentFieldsReadAsZeroAndEmpty) {
  BodyFields fields({"seq", "text"});
  ASSERT_TRUE(fields.read(body(0, [](Packer&) {})));
  EXPECT_EQ(fields.id(), 0u);
  EXPECT_EQ(fields.unsignedField(0), 0u);
  EXPECT_EQ(fields.stringField(1), "");
}

TEST(BodyFields, FieldsOfAnotherTypeReadAsNothing) {
  const std::string bytes = body(3, [](Packer& p) {
    p.pack(std::string_view("id"));
    p.pack(std::string_view("7"));
    p.pack(std::string_view("seq"));
    p.pack(1.5);
    p.pack(std::string_view("text"));
    p.pack_nil();
  });
  BodyFields fields({"seq", "text"});
  ASSERT_TRUE(fields.read(bytes));
  EXPECT_FALSE(fields.id().has_value());
  EXPECT_FALSE(fields.unsignedField(0).has_value());
  EXPECT_FALSE(fields.stringField(1).has_value());
}

TEST(BodyFields, WritesTheBodyWithTheIdReplacedAndUnknownKeysKept) {
  const std::string bytes = body(5, [](Packer& p) {
    p.pack(std::string_view("seq"));
    p.pack(uint64_t{9});
    p.pack(std::string_view("id"));
    p.pack_fix_uint64(123456789012);
    p.pack(std::string_view("future"));
    p.pack(std::map<std::string, std::vector<int>>{{"a", {1, -2, 3}}});
    p.pack(std::string_view("flag"));
    p.pack(true);
    p.pack(std::string_view("text"));
    p.pack(std::string(70000, 'x'));  // a str32
  });
  BodyFields fields({"text"});
  ASSERT_TRUE(fields.read(bytes));
  msgpack::sbuffer out;
  out.write("stale", 5);  // what the buffer held before is gone
  fields.writeWithId(7, out);
  msgpack::object_handle handle;
  const auto& map = unpacked(view(out), handle);
  ASSERT_EQ(map.type, msgpack::type::MAP);
  ASSERT_EQ(map.via.map.size, 5u);
  EXPECT_EQ(map.via.map.ptr[0].key.as<std::string>(), "id") << "the id comes first";
  EXPECT_EQ(map.via.map.ptr[0].val.as<uint64_t>(), 7u);
  const auto decoded = map.as<std::map<std::string, msgpack::object>>();
  EXPECT_EQ(decoded.at("seq").as<uint64_t>(), 9u);
  EXPECT_EQ((decoded.at("future").as<std::map<std::string, std::vector<int>>>()),
            (std::map<std::string, std::vector<int>>{{"a", {1, -2, 3}}}));
  EXPECT_TRUE(decoded.at("flag").as<bool>());
  EXPECT_EQ(decoded.at("text").as<std::string>(), std::string(70000, 'x'));
}

TEST(BodyFields, AddsAnIdTheBodyDidNotHave) {
  const std::string bytes = body(1, [](Packer& p) {
    p.pack(std::string_view("kind"));
    p.pack(std::string_view("delta"));
  });
  BodyFields fields({"kind"});
  ASSERT_TRUE(fields.read(bytes));
  msgpack::sbuffer out;
  fields.writeWithId(300, out);
  msgpack::object_handle handle;
  const auto event = unpacked(view(out), handle).as<msg::Event>();
  EXPECT_EQ(event.id, 300u);
  EXPECT_EQ(event.kind, "delta");
  EXPECT_EQ(unpacked(view(out), handle).via.map.size, 2u);
}

TEST(BodyFields, ReadsAQuerysFieldsAsDecodingWould) {
  const auto encoded = encodeBody(msg::Query{9, "reviewer", "Look at main.cpp", true, 5000, 0});
  BodyFields fields({"session", "prompt", "stream", "timeout_ms", "generation"});
  ASSERT_TRUE(fields.read(std::string_view(encoded.data(), encoded.size())));
  EXPECT_EQ(fields.id(), 9u);
  EXPECT_EQ(fields.stringField(0), "reviewer");
  EXPECT_EQ(fields.stringField(1), "Look at main.cpp");
  EXPECT_EQ(fields.boolField(2), true);
  EXPECT_EQ(fields.unsignedField(3), 5000u);
  EXPECT_EQ(fields.unsignedField(4), 0u);
  EXPECT_EQ(fields.size(), encoded.size());
}

TEST(BodyFields, ReadsBoolsAndNumbersOfEveryEncoding) {
  const std::string bytes = body(7, [](Packer& p) {
    p.pack(std::string_view("no"));
    p.pack(false);
    p.pack(std::string_view("one"));
    p.pack(1);  // not a bool
    p.pack(std::string_view("f32"));
    p.pack(0.25f);
    p.pack(std::string_view("f64"));
    p.pack(1.0e-7);
    p.pack(std::string_view("u16"));
    p.pack_fix_uint16(300);
    p.pack(std::string_view("neg"));
    p.pack(-3);
    p.pack(std::string_view("nil"));
    p.pack_nil();
  });
  BodyFields bools({"no", "one", "nil", "absent"});
  ASSERT_TRUE(bools.read(bytes));
  EXPECT_EQ(bools.boolField(0), false);
  EXPECT_FALSE(bools.boolField(1).has_value());
  EXPECT_FALSE(bools.boolField(2).has_value()) << "nil is not false: decoding refuses it";
  EXPECT_EQ(bools.boolField(3), false);
  BodyFields numbers({"f32", "f64", "u16", "neg", "nil"});
  ASSERT_TRUE(numbers.read(bytes));
  EXPECT_EQ(numbers.numberField(0), 0.25);
  EXPECT_EQ(numbers.numberField(1), 1.0e-7);
  EXPECT_EQ(numbers.numberField(2), 300.0);
  EXPECT_FALSE(numbers.numberField(3).has_value());
  EXPECT_FALSE(numbers.numberField(4).has_value());
}

TEST(BodyFields, WritesAStringFieldInPlaceOfTheOneReadOrAddsIt) {
  const std::string with_pool = body(4, [](Packer& p) {
    p.pack(std::string_view("text"));
    p.pack(std::string_view("hi"));
    p.pack(std::string_view("pool"));
    p.pack(std::string_view(""));
    p.pack(std::string_view("cost_usd"));
    p.pack(0.5);
    p.pack(std::string_view("id"));
    p.pack(12);
  });
  const std::string without = body(1, [](Packer& p) {
    p.pack(std::string_view("text"));
    p.pack(std::string_view("hi"));
  });
  for (const std::string& bytes : {with_pool, without}) {
    BodyFields fields({"cost_usd", "pool"});
    ASSERT_TRUE(fields.read(bytes));
    msgpack::sbuffer out;
    fields.writeWithId(7, out, BodyFields::StringOverride{1, "p"});
    msgpack::object_handle handle;
    const auto& map = unpacked(view(out), handle);
    ASSERT_EQ(map.type, msgpack::type::MAP);
    EXPECT_EQ(map.via.map.ptr[0].key.as<std::string>(), "id");
    EXPECT_EQ(map.via.map.ptr[1].key.as<std::string>(), "pool");
    const auto decoded = map.as<std::map<std::string, msgpack::object>>();
    EXPECT_EQ(decoded.size(), map.via.map.size) << "no key twice";
    EXPECT_EQ(decoded.at("id").as<uint64_t>(), 7u);
    EXPECT_EQ(decoded.at("pool").as<std::string>(), "p");
    EXPECT_EQ(decoded.at("text").as<std::string>(), "hi");
    if (bytes == with_pool) {
      EXPECT_EQ(decoded.at("cost_usd").as<double>(), 0.5);
    }
  }
}

TEST(BodyFields, RefusesWhatTheCodecWouldRefuseOrReadOtherwise) {
  const std::string event = view(encodeBody(msg::Event{1, 0, "delta", "text"}));
  const std::vector<std::pair<std::string, std::string>> refused{
      {"empty", ""},
      {"cut short", event.substr(0, event.size() - 1)},
      {"trailing bytes", event + "\xc0"},
      {"an array", view(encodeBody(std::vector<int>{1, 2}))},
      {"a str", view(encodeBody(std::string("id")))},
      {"a key that is not a str", body(1,
                                       [](Packer& p) {
                                         p.pack(1);
                                         p.pack(2);
                                       })},
      {"a bin value", body(1,
                           [](Packer& p) {
                             p.pack(std::string_view("text"));
                             p.pack_bin(2);
                             p.pack_bin_body("ab", 2);
                           })},
      {"an ext value", body(1,
                            [](Packer& p) {
                              p.pack(std::string_view("x"));
                              p.pack_ext(1, 5);
                              p.pack_ext_body("a", 1);
                            })},
      {"a repeated id", body(2,
                             [](Packer& p) {
                               p.pack(std::string_view("id"));
                               p.pack(1);
                               p.pack(std::string_view("id"));
                               p.pack(2);
                             })},
      {"the unused byte", std::string("\x81\xa1x\xc1", 4)},
      {"a map claiming more pairs", std::string("\x83\xa1x\x01", 4)},
      {"nesting too deep", body(1,
                                [](Packer& p) {
                                  p.pack(std::string_view("x"));
                                  for (int i = 0; i < 20; ++i) p.pack_array(1);
                                  p.pack(1);
                                })},
  };
  for (const auto& [what, bytes] : refused) {
    BodyFields fields({"seq", "kind", "text"});
    EXPECT_FALSE(fields.read(bytes)) << what;
  }
  BodyFields fields({"seq", "kind", "text"});
  EXPECT_TRUE(fields.read(event)) << "and the well-formed original is read";
}

}  // namespace
}  // namespace ccmesh
