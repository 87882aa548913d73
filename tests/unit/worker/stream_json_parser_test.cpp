#include "ccmesh/worker/stream_json_parser.hpp"

#include <gtest/gtest.h>

namespace ccmesh::worker {
namespace {

using Kind = CliEvent::Kind;

class StreamJsonParserTest : public ::testing::Test {
 protected:
  StreamJsonParser parser;  // the parser the worker ships
};

TEST_F(StreamJsonParserTest, ReadsSystemInit) {
  auto event = parser.parse(
      R"({"type":"system","subtype":"init","session_id":"abc","tools":["Bash"],"permissionMode":"default"})");
  EXPECT_EQ(event.kind, Kind::kInit);
  EXPECT_EQ(event.session_id, "abc");
  auto camel = parser.parse(R"({"type":"system","subtype":"init","sessionId":"def"})");
  EXPECT_EQ(camel.kind, Kind::kInit);
  EXPECT_EQ(camel.session_id, "def");
  // Other system subtypes are not acted on.
  EXPECT_EQ(parser.parse(R"({"type":"system","subtype":"compact_boundary"})").kind, Kind::kIgnored);
}

TEST_F(StreamJsonParserTest, ReadsTextDeltasOnly) {
  auto delta = parser.parse(
      R"({"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}},"parent_tool_use_id":null,"session_id":"s"})");
  EXPECT_EQ(delta.kind, Kind::kTextDelta);
  EXPECT_EQ(delta.text, "Hel");
  EXPECT_FALSE(delta.from_subagent);
  auto json_delta = parser.parse(
      R"({"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"input_json_delta","partial_json":"{"}}})");
  EXPECT_EQ(json_delta.kind, Kind::kIgnored);
  auto start = parser.parse(R"({"type":"stream_event","event":{"type":"message_start"}})");
  EXPECT_EQ(start.kind, Kind::kIgnored);
  auto sub = parser.parse(
      R"({"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}},"parentToolUseId":"toolu_1"})");
  EXPECT_EQ(sub.kind, Kind::kTextDelta);
  EXPECT_TRUE(sub.from_subagent);
}

TEST_F(StreamJsonParserTest, JoinsAssistantTextBlocks) {
  auto event = parser.parse(
      R"({"type":"assistant","message":{"content":[{"type":"text","text":"a"},{"type":"tool_use","id":"t","name":"Bash","input":{}},{"type":"text","text":"b"}]},"parent_tool_use_id":null})");
  EXPECT_EQ(event.kind, Kind::kAssistant);
  EXPECT_EQ(event.text, "ab");
}

TEST_F(StreamJsonParserTest, ReadsASuccessResult) {
  auto event = parser.parse(
      R"({"type":"result","subtype":"success","is_error":false,"duration_ms":8806,"num_turns":4,"result":"Done.","session_id":"2a65","total_cost_usd":0.1172429,"usage":{"input_tokens":9,"output_tokens":124}})");
  EXPECT_EQ(event.kind, Kind::kResult);
  EXPECT_EQ(event.subtype, "success");
  EXPECT_FALSE(event.is_error);
  EXPECT_TRUE(event.solicited);
  EXPECT_EQ(event.text, "Done.");
  EXPECT_EQ(event.session_id, "2a65");
  EXPECT_EQ(event.duration_ms, 8806u);
  EXPECT_DOUBLE_EQ(event.cost_usd, 0.1172429);
  EXPECT_EQ(event.input_tokens, 9u);
  EXPECT_EQ(event.output_tokens, 124u);
}

TEST_F(StreamJsonParserTest, ReadsCamelCaseResultFields) {
  auto event = parser.parse(
      R"({"type":"result","subtype":"success","isError":true,"durationMs":5,"result":"API Error: 500","sessionId":"s","totalCostUsd":2,"usage":{"inputTokens":1,"outputTokens":2}})");
  EXPECT_EQ(event.kind, Kind::kResult);
  EXPECT_TRUE(event.is_error);
  EXPECT_EQ(event.duration_ms, 5u);
  EXPECT_EQ(event.session_id, "s");
  EXPECT_DOUBLE_EQ(event.cost_usd, 2.0);
  EXPECT_EQ(event.input_tokens, 1u);
  EXPECT_EQ(event.output_tokens, 2u);
}

TEST_F(StreamJsonParserTest, ReadsErrorResultsAndTheirErrors) {
  auto event = parser.parse(
      R"j({"type":"result","subtype":"error_max_turns","is_error":true,"errors":["Reached maximum number of turns (10)","second"]})j");
  EXPECT_EQ(event.kind, Kind::kResult);
  EXPECT_TRUE(event.is_error);
  EXPECT_EQ(event.subtype, "error_max_turns");
  EXPECT_TRUE(event.text.empty());
  EXPECT_EQ(event.errors, "Reached maximum number of turns (10); second");
}

// What Claude Code 2.1.330 prints when the Messages API answers 529 (fields trimmed): the
// subtype says success, is_error and api_error_status say otherwise.
TEST_F(StreamJsonParserTest, ReadsApiFailuresOfTheRealCli) {
  auto event = parser.parse(
      R"({"duration_api_ms":0,"stop_reason":"stop_sequence","session_id":"b950","total_cost_usd":0,"permission_denials":[],"terminal_reason":"api_error","is_error":true,"num_turns":1,"subtype":"success","api_error_status":529,"api_error_type":"overloaded_error","result":"API Error: 529 Overloaded. This is a server-side issue, usually temporary.","type":"result","duration_ms":319})");
  EXPECT_EQ(event.kind, Kind::kResult);
  EXPECT_TRUE(event.is_error);
  EXPECT_EQ(event.api_error_status, 529u);
  EXPECT_EQ(event.terminal_reason, "api_error");
  EXPECT_EQ(event.text.rfind("API Error: 529 Overloaded", 0), 0u);
  auto fine = parser.parse(
      R"({"type":"result","subtype":"success","is_error":false,"api_error_status":null,"terminal_reason":"completed","result":"ok"})");
  EXPECT_EQ(fine.api_error_status, 0u);
  EXPECT_EQ(fine.terminal_reason, "completed");
}

TEST_F(StreamJsonParserTest, TellsUnsolicitedResultsByTheirOrigin) {
  EXPECT_FALSE(
      parser.parse(R"({"type":"result","is_error":false,"origin":{"kind":"task-notification"}})")
          .solicited);
  EXPECT_TRUE(
      parser.parse(R"({"type":"result","is_error":false,"origin":{"kind":"user"}})").solicited);
  EXPECT_TRUE(parser.parse(R"({"type":"result","is_error":false,"origin":null})").solicited);
}

TEST_F(StreamJsonParserTest, ReadsControlResponses) {
  auto ok = parser.parse(
      R"({"type":"control_response","response":{"subtype":"success","request_id":"init_1","response":{}}})");
  EXPECT_EQ(ok.kind, Kind::kControlResponse);
  EXPECT_EQ(ok.subtype, "success");
  EXPECT_EQ(ok.request_id, "init_1");
  auto failed = parser.parse(
      R"({"type":"control_response","response":{"subtype":"error","requestId":"int_2","error":"no turn"}})");
  EXPECT_EQ(failed.kind, Kind::kControlResponse);
  EXPECT_EQ(failed.request_id, "int_2");
  EXPECT_EQ(failed.error, "no turn");
}

TEST_F(StreamJsonParserTest, ReadsControlRequestsFromTheCli) {
  auto event = parser.parse(
      R"({"type":"control_request","request_id":"req_1_ab","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"ls"}}})");
  EXPECT_EQ(event.kind, Kind::kControlRequest);
  EXPECT_EQ(event.request_id, "req_1_ab");
  EXPECT_EQ(event.subtype, "can_use_tool");
  EXPECT_EQ(event.tool_name, "Bash");
}

TEST_F(StreamJsonParserTest, RecognisesTranscriptMirrors) {
  EXPECT_EQ(parser.parse(R"({"type":"transcript_mirror","filePath":"/x.jsonl","entries":[]})").kind,
            Kind::kTranscriptMirror);
}

TEST_F(StreamJsonParserTest, KeepsMirroredEntriesAsWrittenAndCountsTheOthers) {
  auto event = parser.parse(
      R"({"type":"transcript_mirror","filePath":"/c/projects/-w/id.jsonl","entries":[{"type":"user","uuid":"u1"},7,"x",{"type":"assistant"}]})");
  EXPECT_EQ(event.kind, Kind::kTranscriptMirror);
  EXPECT_EQ(event.file_path, "/c/projects/-w/id.jsonl");
  ASSERT_EQ(event.entries.size(), 2u);
  EXPECT_EQ(event.entries[0], R"({"type":"user","uuid":"u1"})");
  EXPECT_EQ(event.entries[1], R"({"type":"assistant"})");
  EXPECT_EQ(event.bad_entries, 2u);
  auto not_array = parser.parse(R"({"type":"transcript_mirror","entries":"nope"})");
  EXPECT_EQ(not_array.kind, Kind::kTranscriptMirror);
  EXPECT_TRUE(not_array.entries.empty());
  EXPECT_EQ(not_array.bad_entries, 1u);
  const std::string huge(5u << 20, 'x');
  auto oversized =
      parser.parse(R"({"type":"transcript_mirror","entries":[{"p":")" + huge + R"("},{"ok":1}]})");
  ASSERT_EQ(oversized.entries.size(), 1u);
  EXPECT_EQ(oversized.bad_entries, 1u);
}

TEST_F(StreamJsonParserTest, IgnoresUnknownTypesAndNonJsonLines) {
  EXPECT_EQ(parser.parse(R"({"type":"rate_limit_event","rate_limit_info":{}})").kind,
            Kind::kIgnored);
  EXPECT_EQ(parser.parse(R"({"no_type":1})").kind, Kind::kIgnored);
  EXPECT_EQ(parser.parse("[SandboxDebug] something").kind, Kind::kIgnored);
  EXPECT_EQ(parser.parse("").kind, Kind::kIgnored);
  EXPECT_EQ(parser.parse("   ").kind, Kind::kIgnored);
  EXPECT_EQ(parser.malformedLines(), 0u);
}

TEST_F(StreamJsonParserTest, CountsMalformedJsonWithoutThrowing) {
  EXPECT_EQ(parser.parse(R"({"type":"result",)").kind, Kind::kMalformed);
  EXPECT_EQ(parser.parse("{not json at all").kind, Kind::kMalformed);
  EXPECT_EQ(parser.parse(std::string("{\"type\":\"x\"}\xff\xfe")).kind, Kind::kMalformed);
  EXPECT_EQ(parser.malformedLines(), 3u);
  // Wrong field types are tolerated, not thrown on.
  auto odd = parser.parse(R"({"type":"result","is_error":"yes","result":42,"usage":[1]})");
  EXPECT_EQ(odd.kind, Kind::kResult);
  EXPECT_FALSE(odd.is_error);
  EXPECT_TRUE(odd.text.empty());
}

TEST_F(StreamJsonParserTest, DecodesEscapesInText) {
  auto event = parser.parse(
      R"({"type":"result","is_error":false,"result":"a\"b\\c\n\u00e9\ud83d\ude00\/"})");
  EXPECT_EQ(event.text, "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80/");
}

TEST_F(StreamJsonParserTest, ReadsAHugeResultLine) {
  const std::string text(20u << 20, 'q');
  const std::string line = R"({"type":"result","subtype":"success","is_error":false,"result":")" +
                           text + R"(","session_id":"s","usage":{"output_tokens":5}})";
  auto event = parser.parse(line);
  EXPECT_EQ(event.kind, Kind::kResult);
  EXPECT_EQ(event.text.size(), text.size());
  EXPECT_EQ(event.session_id, "s");
  EXPECT_EQ(event.output_tokens, 5u);
}

}  // namespace
}  // namespace ccmesh::worker
