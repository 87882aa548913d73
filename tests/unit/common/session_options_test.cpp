#include "ccmesh/common/session_options.hpp"

#include <gtest/gtest.h>

#include "ccmesh/common/json_forms.hpp"

namespace ccmesh {
namespace {

TEST(SessionOptions, SetsEveryOptionFromText) {
  SessionOptions o;
  EXPECT_FALSE(o.set("system_prompt", "be brief"));
  EXPECT_FALSE(o.set("max_turns", "3"));
  EXPECT_FALSE(o.set("allowed_tools", "Read,Bash(echo:*)"));
  EXPECT_FALSE(o.set("allowed_tools", "Grep"));
  EXPECT_FALSE(o.set("env", "A=b=c"));
  EXPECT_FALSE(o.set("query_timeout_ms", "2500"));
  EXPECT_EQ(o.system_prompt, "be brief");
  EXPECT_EQ(o.max_turns, 3u);
  EXPECT_EQ(o.allowed_tools, (std::vector<std::string>{"Read", "Bash(echo:*)", "Grep"}));
  EXPECT_EQ(o.env.at("A"), "b=c");
  EXPECT_EQ(o.query_timeout_ms, 2500u);
}

TEST(SessionOptions, NamesTheOptionItRefuses) {
  SessionOptions o;
  auto bad_number = o.set("max_turns", "lots");
  ASSERT_TRUE(bad_number);
  EXPECT_EQ(bad_number->code, ErrorCode::kBadRequest);
  EXPECT_NE(bad_number->message.find("max_turns"), std::string::npos);
  auto negative = o.set("max_turns", "-1");
  ASSERT_TRUE(negative);
  auto unknown = o.set("colour", "blue");
  ASSERT_TRUE(unknown);
  EXPECT_NE(unknown->message.find("colour"), std::string::npos);
  EXPECT_TRUE(o.set("env", "novalue"));
}

TEST(SessionOptions, ReadsAndChecksResidencyOptions) {
  SessionOptions o;
  EXPECT_EQ(o.start, "eager");
  EXPECT_FALSE(o.onDemand());
  EXPECT_FALSE(o.set("start", "on_demand"));
  EXPECT_FALSE(o.set("idle_timeout_ms", "300"));
  EXPECT_FALSE(o.set("max_rss_mb", "2048"));
  EXPECT_TRUE(o.onDemand());
  EXPECT_EQ(o.idle_timeout_ms, 300u);
  EXPECT_EQ(o.max_rss_mb, 2048u);
  EXPECT_FALSE(o.validate());
  EXPECT_TRUE(o.set("max_rss_mb", "lots"));
  o.start = "lazy";
  auto start = o.validate();
  ASSERT_TRUE(start);
  EXPECT_NE(start->message.find("option start"), std::string::npos);
  o.start = "eager";
  o.idle_timeout_ms = ~0ULL;
  EXPECT_TRUE(o.validate());
  o.idle_timeout_ms = 0;
  o.max_rss_mb = ~0ULL;
  EXPECT_TRUE(o.validate());
}

TEST(SessionOptions, IdleTimeoutIsAnAliasOfIdleTimeoutMs) {
  SessionOptions o;
  EXPECT_FALSE(o.set("idle_timeout", "1500"));
  EXPECT_EQ(o.idle_timeout_ms, 1500u);
  auto bad = o.set("idle_timeout", "soon");
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->message.find("idle_timeout"), std::string::npos) << bad->message;
}

// The keys RequestedOptions accepts are exactly those SessionOptions writes.
TEST(SessionOptions, EveryKeyItWritesIsAKeyItTakes) {
  msgpack::sbuffer packed;
  msgpack::pack(packed, SessionOptions{});
  auto handle = msgpack::unpack(packed.data(), packed.size());
  const auto& map = handle.get().via.map;
  EXPECT_EQ(map.size, SessionOptions::kKeyCount);
  for (uint32_t i = 0; i < map.size; ++i) {
    const std::string key = map.ptr[i].key.as<std::string>();
    EXPECT_TRUE(SessionOptions::isKey(key)) << key;
  }
  EXPECT_FALSE(SessionOptions::isKey("idle_timeout")) << "an alias of the text forms only";
  EXPECT_FALSE(SessionOptions::isKey("sytem_prompt"));
}

TEST(SessionOptions, ValidatesPermissionModeAndPaths) {
  SessionOptions o;
  o.permission_mode = "yolo";
  auto mode = o.validate();
  ASSERT_TRUE(mode);
  EXPECT_NE(mode->message.find("permission_mode"), std::string::npos);
  o.permission_mode = "acceptEdits";
  EXPECT_FALSE(o.validate());
  o.cwd = "relative/dir";
  auto cwd = o.validate();
  ASSERT_TRUE(cwd);
  EXPECT_NE(cwd->message.find("cwd"), std::string::npos);
  o.cwd = "/tmp";
  o.resume = "--evil";
  EXPECT_TRUE(o.validate());
}

}  // namespace
}  // namespace ccmesh

namespace ccmesh {
namespace {

// The HTTP API's form of session options: the same keys as JSON values.
TEST(SessionOptionsJsonTest, ReadsEveryKindOfValue) {
  const auto parsed = sessionOptionsFromJson(Json::parse(R"({
    "model": "claude-test", "max_turns": 3, "allowed_tools": ["Read", "Grep"],
    "env": {"A": "1", "B": "2"}, "require": {"zone": "eu"}, "start": "on_demand",
    "idle_timeout_ms": 5000})"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const SessionOptions& options = parsed.value();
  EXPECT_EQ(options.model, "claude-test");
  EXPECT_EQ(options.max_turns, 3u);
  EXPECT_EQ(options.allowed_tools, (std::vector<std::string>{"Read", "Grep"}));
  EXPECT_EQ(options.env, (std::map<std::string, std::string>{{"A", "1"}, {"B", "2"}}));
  EXPECT_EQ(options.require.at("zone"), "eu");
  EXPECT_EQ(options.start, "on_demand");
  EXPECT_EQ(options.idle_timeout_ms, 5000u);
}

TEST(SessionOptionsJsonTest, WrongShapesAreBadRequestsNamingTheOption) {
  for (const char* text :
       {R"({"no_such_option": "1"})", R"({"max_turns": -1})", R"({"allowed_tools": [1]})",
        R"({"env": {"A": 1}})", R"({"model": true})", R"({"start": "sometimes"})", R"([1])"}) {
    const auto parsed = sessionOptionsFromJson(Json::parse(text));
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kBadRequest) << text;
  }
  const auto parsed = sessionOptionsFromJson(Json::parse(R"({"max_turns": "x"})"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("max_turns"), std::string::npos);
}

TEST(SessionOptionsJsonTest, JsonValuedOptionsMayBeObjectsAndBudgetsFractions) {
  const auto parsed = sessionOptionsFromJson(Json::parse(
      R"({"json_schema": {"type": "object"}, "settings": {"model": "m"}, "max_budget_usd": 0.25,
          "strict_mcp_config": true, "effort": "high", "setting_sources": ["user"]})"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(Json::parse(parsed->json_schema), Json({{"type", "object"}}));
  EXPECT_EQ(Json::parse(parsed->settings), Json({{"model", "m"}}));
  EXPECT_DOUBLE_EQ(parsed->max_budget_usd, 0.25);
  EXPECT_TRUE(parsed->strict_mcp_config);
  EXPECT_EQ(parsed->setting_sources, std::vector<std::string>{"user"});
  const auto bad = sessionOptionsFromJson(Json::parse(R"({"effort": "extreme"})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("effort"), std::string::npos);
}

}  // namespace
}  // namespace ccmesh
