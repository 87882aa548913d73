// The mock CLI's /tool prompt, driven line by line over its pipes: the can_use_tool request
// it sends, and how each kind of reply (allow, deny, error, cancel, interrupt) ends the turn.
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ccmesh/worker/cli_command.hpp"
#include "ccmesh/worker/cli_process.hpp"
#include "mock_cli_fixture.hpp"

namespace ccmesh::worker {
namespace {

using Json = nlohmann::json;

class MockCliToolTest : public MockCliFixture {
 protected:
  MockCliToolTest() : MockCliFixture("ccmesh-mock-cli-tool-test-") {}

  void SetUp() override {
    MockCliFixture::SetUp();
    if (IsSkipped()) return;
    context_.cli.session_mirror = false;
    auto command = CliCommand::build(context_.cli, SessionOptions{}, ConversationStart::kNew,
                                     "mock-cli-tool-test", context_.base_env);
    auto started = CliProcess::start(command, 1u << 20);
    ASSERT_TRUE(started.ok()) << started.error();
    cli_ = std::move(started.value());
  }

  void TearDown() override {
    cli_.reset();
    MockCliFixture::TearDown();
  }

  void send(const Json& message) { cli_->send(message.dump() + "\n"); }

  void prompt(const std::string& text) {
    send({{"type", "user"}, {"message", {{"role", "user"}, {"content", text}}}});
  }

  void reply(const std::string& request_id, const Json& response) {
    send({{"type", "control_response"},
          {"response",
           {{"subtype", "success"}, {"request_id", request_id}, {"response", response}}}});
  }

  // The next stdout line of type `type`, skipping others; fails after 10 s.
  Json next(const std::string& type) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::string line;
    while (std::chrono::steady_clock::now() < give_up) {
      while (cli_->outputLines().nextLine(line)) {
        Json message = Json::parse(line, nullptr, false);
        if (message.is_object() && message.value("type", "") == type) return message;
      }
      std::vector<pollfd> fds{{cli_->outputFd(), POLLIN, 0}};
      if (cli_->pendingInputFd() >= 0) fds.push_back({cli_->pendingInputFd(), POLLOUT, 0});
      if (fds[0].fd < 0) break;
      ::poll(fds.data(), fds.size(), 10);
      cli_->onInputWritable();
      cli_->readOutput(1u << 20);
    }
    ADD_FAILURE() << "timed out waiting for a " << type << " line";
    return Json();
  }

  // The text of the next result.
  std::string result() { return next("result").value("result", "<no result field>"); }

  std::unique_ptr<CliProcess> cli_;  // the mock CLI under test
};

TEST_F(MockCliToolTest, AsksCanUseToolWithTheInputItWasGiven) {
  prompt(R"(/tool Bash {"command":"ls -l","timeout":5})");
  Json request = next("control_request");
  EXPECT_EQ(request["request_id"], "mock_tool_1");
  const Json& body = request["request"];
  EXPECT_EQ(body["subtype"], "can_use_tool");
  EXPECT_EQ(body["tool_name"], "Bash");
  EXPECT_EQ(body["input"], (Json{{"command", "ls -l"}, {"timeout", 5}}));
  EXPECT_EQ(body["tool_use_id"], "toolu_mock_1");
  EXPECT_EQ(body["permission_suggestions"][0]["rules"][0]["toolName"], "Bash");
  EXPECT_EQ(body["permission_suggestions"][0]["destination"], "session");
  EXPECT_EQ(body["decision_reason"], "the mock CLI asks for every tool");
  EXPECT_TRUE(body["blocked_path"].is_null());

  prompt("/tool Read /etc/hosts");  // queued behind the waiting turn
  reply("mock_tool_1", {{"behavior", "allow"}, {"updatedInput", {{"command", "ls"}}}});
  EXPECT_EQ(result(), R"(tool Bash allowed: {"command":"ls"})");
  Json second = next("control_request");
  EXPECT_EQ(second["request_id"], "mock_tool_2");
  EXPECT_EQ(second["request"]["input"], (Json{{"command", "/etc/hosts"}}));
  reply("mock_tool_2", {{"behavior", "allow"}});
  EXPECT_EQ(result(), R"(tool Read allowed: {"command":"/etc/hosts"})");
}

TEST_F(MockCliToolTest, AnswersDenyErrorAndCancelAsDenied) {
  prompt("/tool Write {\"file_path\":\"/x\"}");
  next("control_request");
  reply("mock_tool_9", {{"behavior", "allow"}});  // not the awaited request: ignored
  reply("mock_tool_1", {{"behavior", "deny"}, {"message", "not here"}});
  EXPECT_EQ(result(), "tool Write denied: not here");

  prompt("/tool Bash rm -rf x");
  next("control_request");
  send({{"type", "control_response"},
        {"response", {{"subtype", "error"}, {"request_id", "mock_tool_2"}, {"error", "boom"}}}});
  EXPECT_EQ(result(), "tool Bash denied: boom");

  prompt("/tool Edit {}");
  next("control_request");
  send({{"type", "control_cancel_request"}, {"request_id", "mock_tool_3"}});
  EXPECT_EQ(result(), "tool Edit denied: cancelled");
}

TEST_F(MockCliToolTest, ServesControlRequestsWhileWaitingAndEndsOnInterrupt) {
  prompt("/tool Bash ls");
  next("control_request");
  send({{"type", "control_request"},
        {"request_id", "req_model"},
        {"request", {{"subtype", "set_model"}, {"model", "mock-opus"}}}});
  EXPECT_EQ(next("control_response")["response"]["request_id"], "req_model");
  send({{"type", "control_request"},
        {"request_id", "req_stop"},
        {"request", {{"subtype", "interrupt"}}}});
  EXPECT_EQ(next("control_response")["response"]["request_id"], "req_stop");
  EXPECT_EQ(next("result")["subtype"], "error_during_execution");
  reply("mock_tool_1", {{"behavior", "allow"}});  // too late: nobody waits for it
  prompt("/model");
  EXPECT_EQ(result(), "mock-opus");
}

}  // namespace
}  // namespace ccmesh::worker
