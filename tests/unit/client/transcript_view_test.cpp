// What `ccmesh transcript` shows of a transcript: the user and assistant turns.
#include "transcript_view.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace ccmesh::client {
namespace {

TEST(TranscriptView, ShowsUserAndAssistantTextOnly) {
  const std::string jsonl =
      R"({"type":"user","timestamp":"t1","message":{"role":"user","content":"hello"}})"
      "\n"
      R"({"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"hi "}]}})"
      "\n"
      R"({"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","name":"Bash"},{"type":"text","text":"there"}]}})"
      "\n"
      R"({"type":"user","message":{"content":[{"type":"tool_result","content":"x"}]}})"
      "\n"
      R"({"type":"system","content":"compacted"})"
      "\n"
      "not json\n";
  const auto turns = TranscriptView::turns(jsonl);
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[0].role, "user");
  EXPECT_EQ(turns[0].text, "hello");
  EXPECT_EQ(turns[0].timestamp, "t1");
  EXPECT_EQ(turns[1].role, "assistant");
  EXPECT_EQ(turns[1].text, "hi there");
  std::ostringstream out;
  TranscriptView::print(out, turns);
  EXPECT_EQ(out.str(), "user: hello\nassistant: hi there\n");
}

}  // namespace
}  // namespace ccmesh::client
