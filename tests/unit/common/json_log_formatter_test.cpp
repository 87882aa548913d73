// JSON log lines (--log-format json): one object a line, the fields a message names lifted
// out of it.
#include "ccmesh/common/json_log_formatter.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ccmesh {
namespace {

using Json = nlohmann::json;

Json format(const std::string& message, std::map<std::string, std::string> fixed = {},
            spdlog::level::level_enum level = spdlog::level::info) {
  JsonLogFormatter formatter(std::move(fixed));
  spdlog::details::log_msg msg("worker", level, message);
  spdlog::memory_buf_t out;
  formatter.format(msg, out);
  const std::string text(out.data(), out.size());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line";
  return Json::parse(text);
}

TEST(JsonLogFormatter, WritesTimeLevelComponentAndMessage) {
  const Json line = format("worker w1 starting", {}, spdlog::level::warn);
  EXPECT_EQ(line["level"], "warning");
  EXPECT_EQ(line["component"], "worker");
  EXPECT_EQ(line["message"], "worker w1 starting");
  const std::string time = line["time"];
  ASSERT_EQ(time.size(), 24u) << time;  // 2026-12-05T09:30:00.123Z
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_FALSE(line.contains("session"));
  EXPECT_FALSE(line.contains("request"));
}

TEST(JsonLogFormatter, LiftsTheTagsAMessageStartsWith) {
  const Json line = format("[pool reviewers] [session r-1] refused query 42; trying another");
  EXPECT_EQ(line["pool"], "reviewers");
  EXPECT_EQ(line["session"], "r-1");
  EXPECT_EQ(line["request"], 42);
  EXPECT_EQ(line["message"], "refused query 42; trying another");
}

TEST(JsonLogFormatter, FindsRequestIdsButNotCliControlRequests) {
  EXPECT_EQ(format("[client c] request id 7 reused while in flight")["request"], 7);
  EXPECT_EQ(format("[client c] too many requests (id 9)")["request"], 9);
  EXPECT_EQ(format("[worker w] stale result for request 12 dropped")["worker"], "w");
  EXPECT_FALSE(format("[session s] control request 3 failed: x").contains("request"));
  EXPECT_FALSE(format("query timeout 5s reached").contains("request"));
}

TEST(JsonLogFormatter, AddsTheProcessFieldsUnlessTheMessageNamesItsOwn) {
  EXPECT_EQ(format("welcomed", {{"worker", "w1"}})["worker"], "w1");
  EXPECT_EQ(format("[worker w2] joined", {{"worker", "w1"}})["worker"], "w2");
}

TEST(JsonLogFormatter, KeepsBytesThatAreNotUtf8AsReplacementCharacters) {
  const Json line = format("[session s] stderr: \xff\xfe tail");
  EXPECT_NE(line["message"].get<std::string>().find("tail"), std::string::npos);
}

TEST(JsonLogFormatter, LeavesAnUnknownOrUnclosedTagInTheMessage) {
  EXPECT_EQ(format("[other x] text")["message"], "[other x] text");
  EXPECT_EQ(format("[session unclosed text")["message"], "[session unclosed text");
}

}  // namespace
}  // namespace ccmesh
