// The fake Messages API on its own, spoken to over HTTP as the CLI does: the e2e tests are
// only as good as its imitation of the real API.
#include "fake_anthropic_api/fake_anthropic_api.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

namespace ccmesh::test {
namespace {

using Json = nlohmann::json;

class FakeAnthropicApiTest : public ::testing::Test {
 protected:
  // POSTs a Messages API request with these messages (and a system prompt, a model, tools).
  httplib::Result post(const Json& messages, bool stream,
                       const std::string& path = "/v1/messages") {
    Json body{{"model", "claude-test"},
              {"max_tokens", 1024},
              {"stream", stream},
              {"system", Json::array({{{"type", "text"}, {"text", "be brief"}}})},
              {"tools", Json::array({{{"name", "Bash"}}, {{"name", "Read"}}})},
              {"messages", messages}};
    return http_.Post(path, {{"X-Claude-Code-Session-Id", "sid-1"}}, body.dump(),
                      "application/json");
  }

  static Json user(const std::string& text) {
    return {{"role", "user"}, {"content", Json::array({{{"type", "text"}, {"text", text}}})}};
  }

  // The server-sent events of a body: (event name, data) in order.
  static std::vector<std::pair<std::string, Json>> events(const std::string& body) {
    std::vector<std::pair<std::string, Json>> parsed;
    std::size_t start = 0;
    while (start < body.size()) {
      std::size_t end = body.find("\n\n", start);
      if (end == std::string::npos) end = body.size();
      const std::string block = body.substr(start, end - start);
      const auto data = block.find("\ndata: ");
      if (block.rfind("event: ", 0) == 0 && data != std::string::npos) {
        parsed.emplace_back(block.substr(7, data - 7), Json::parse(block.substr(data + 7)));
      }
      start = end + 2;
    }
    return parsed;
  }

  FakeAnthropicApi api_;
  httplib::Client http_{"127.0.0.1", api_.port()};
};

TEST_F(FakeAnthropicApiTest, AnswersWithJsonAndRecordsTheRequest) {
  auto reply = post(Json::array({user("hello")}), false);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  const Json message = Json::parse(reply->body);
  EXPECT_EQ(message["type"], "message");
  EXPECT_EQ(message["model"], "claude-test");
  EXPECT_EQ(message["stop_reason"], "end_turn");
  EXPECT_EQ(message["content"][0]["text"], "reply 1 to: hello");

  auto recorded = api_.waitForRequest(1, Millis(1000));
  ASSERT_TRUE(recorded);
  EXPECT_EQ(recorded->model, "claude-test");
  EXPECT_EQ(recorded->system, "be brief");
  EXPECT_EQ(recorded->tool_names, (std::vector<std::string>{"Bash", "Read"}));
  EXPECT_EQ(recorded->session_header, "sid-1");
  EXPECT_EQ(recorded->userPrompts(), std::vector<std::string>{"hello"});
}

TEST_F(FakeAnthropicApiTest, StreamsEventsInTheRealApisOrder) {
  const Json history = Json::array(
      {user("first"),
       {{"role", "assistant"}, {"content", "reply 1 to: first"}},
       {{"role", "user"},
        {"content",
         Json::array({{{"type", "text"}, {"text", "<system-reminder>x</system-reminder>"}},
                      {{"type", "text"}, {"text", "second one"}}})}}});
  auto reply = post(history, true);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->get_header_value("Content-Type"), "text/event-stream");
  std::vector<std::string> names;
  std::string text;
  for (const auto& [name, data] : events(reply->body)) {
    EXPECT_EQ(data["type"], name);
    if (names.empty() || names.back() != name) names.push_back(name);
    if (name == "content_block_delta") text += data["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"message_start", "ping", "content_block_start",
                                             "content_block_delta", "content_block_stop",
                                             "message_delta", "message_stop"}));
  EXPECT_EQ(text, "reply 2 to: second one");
  EXPECT_EQ(api_.finishedStreams(), 1u);
}

TEST_F(FakeAnthropicApiTest, FailsTheNextRequestsWithTheApisErrorShape) {
  api_.failNext(2, 529);
  for (int i = 0; i < 2; ++i) {
    auto failed = post(Json::array({user("hello")}), true);
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->status, 529);
    const Json error = Json::parse(failed->body);
    EXPECT_EQ(error["type"], "error");
    EXPECT_EQ(error["error"]["type"], "overloaded_error");
    EXPECT_EQ(error["error"]["message"], "Overloaded");
  }
  auto fine = post(Json::array({user("hello")}), false);
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200);
  EXPECT_EQ(api_.requestCount(), 3u);
}

TEST_F(FakeAnthropicApiTest, AsksForAToolThenQuotesItsResult) {
  auto call = post(Json::array({user("please ccmesh-use-tool")}), false);
  ASSERT_TRUE(call);
  const Json tool_use = Json::parse(call->body)["content"][0];
  EXPECT_EQ(tool_use["type"], "tool_use");
  EXPECT_EQ(tool_use["name"], "Bash");
  EXPECT_EQ(tool_use["input"]["command"], "echo ccmesh-$((6*7))");

  const Json follow_up = Json::array({user("please ccmesh-use-tool"),
                                      {{"role", "assistant"}, {"content", Json::array({tool_use})}},
                                      {{"role", "user"},
                                       {"content", Json::array({{{"type", "tool_result"},
                                                                 {"tool_use_id", tool_use["id"]},
                                                                 {"content", "ccmesh-42"},
                                                                 {"is_error", false}}})}}});
  auto answer = post(follow_up, true);
  ASSERT_TRUE(answer);
  std::string text;
  for (const auto& [name, data] : events(answer->body)) {
    if (name == "content_block_delta") text += data["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(text, "tool said: ccmesh-42");
}

TEST_F(FakeAnthropicApiTest, AnswersOtherPathsHarmlessly) {
  auto other = post(Json::array({user("hello")}), false, "/v1/complete");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  EXPECT_EQ(Json::parse(other->body)["error"]["type"], "not_found_error");
  auto root = http_.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 200);
  EXPECT_EQ(api_.requestCount(), 0u);
}

}  // namespace
}  // namespace ccmesh::test
