#include "ccmesh/worker/json_view.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ccmesh::worker {
namespace {

TEST(JsonView, FindsMembersOfNestedObjects) {
  const std::string text = R"( {"a": {"b" : [1, "two", {"c": true}]}, "n": -2.5e1, "z": null} )";
  auto root = JsonView::parse(text);
  ASSERT_TRUE(root.has_value());
  EXPECT_TRUE(root->isObject());
  auto b = root->get("a").get("b");
  ASSERT_TRUE(b.isArray());
  std::vector<std::string> raws;
  for (auto element = b.first(); element.type() != JsonView::Type::kMissing;
       element = element.next(b)) {
    raws.emplace_back(element.raw());
  }
  EXPECT_EQ(raws, (std::vector<std::string>{"1", "\"two\"", "{\"c\": true}"}));
  EXPECT_DOUBLE_EQ(root->get("n").number(), -25.0);
  EXPECT_EQ(root->get("n").unsignedNumber(), 0u);
  EXPECT_EQ(root->get("z").type(), JsonView::Type::kNull);
  EXPECT_FALSE(root->get("z").present());
  EXPECT_EQ(root->get("missing").type(), JsonView::Type::kMissing);
  EXPECT_EQ(root->get("a").get("b").get("x").type(), JsonView::Type::kMissing);
}

TEST(JsonView, MatchesEscapedKeys) {
  auto root = JsonView::parse(R"({"k\u0065y": 7, "key\"": 8})");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->get("key").unsignedNumber(), 7u);
  EXPECT_EQ(root->get("key\"").unsignedNumber(), 8u);
}

TEST(JsonView, SkipsQuotesAndBracketsInsideStrings) {
  auto root = JsonView::parse(R"({"s": "x\\\"}]{[\\", "t": "after"})");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->get("s").string(), "x\\\"}]{[\\");
  EXPECT_EQ(root->get("t").string(), "after");
}

TEST(JsonView, ReplacesBrokenUnicodeEscapes) {
  auto root = JsonView::parse(R"({"a": "\ud800x", "b": "\uzzzz", "c": "\q"})");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->get("a").string(), "\xef\xbf\xbdx");
  EXPECT_EQ(root->get("c").string(), "\xef\xbf\xbd");
  EXPECT_FALSE(root->get("b").string().empty());
}

TEST(JsonView, RejectsMalformedText) {
  for (const char* bad : {"", "{", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "{\"a\":\"x}", "[1 2]",
                          "{\"a\":1} trailing", "{\"a\":tru}", "{a:1}"}) {
    EXPECT_FALSE(JsonView::parse(bad).has_value()) << bad;
  }
  std::string deep(10000, '[');
  deep += std::string(10000, ']');
  EXPECT_FALSE(JsonView::parse(deep).has_value());
}

TEST(JsonView, ReadsLargeNumbers) {
  auto root = JsonView::parse(R"({"big": 18446744073709551615, "f": 3.0})");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->get("big").unsignedNumber(), 18446744073709551615u);
  EXPECT_EQ(root->get("f").unsignedNumber(), 3u);
}

}  // namespace
}  // namespace ccmesh::worker
