// Tool approval through the cluster: the mock CLI asks (`/tool NAME INPUT` sends a
// can_use_tool request) and says in its answer how it was decided; the session's
// permission_handler decides who answers: the querying client, the rules, or nobody.
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

using client::PermissionAnswer;
using Json = nlohmann::json;

class ToolApprovalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster();
    cluster_->startWorker("w1");
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override { client_ = cluster_->client(); }

  // Starts a session named after the test with `handler` (and `rules`); returns its name.
  std::string startSession(const std::string& handler, std::vector<std::string> rules = {},
                           uint64_t timeout_ms = 0) {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    SessionOptions options;
    options.permission_handler = handler;
    options.permission_rules = std::move(rules);
    options.permission_timeout_ms = timeout_ms;
    auto ack = client_->start(name, options);
    EXPECT_TRUE(ack.ok()) << ack.error().message;
    return name;
  }

  CommandResult ccmesh(std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), {"--broker", cluster_->frontend()});
    return runCommandWithInput(binaryPath("ccmesh"), args, input);
  }

  static Cluster* cluster_;
  std::unique_ptr<client::Client> client_;
};

Cluster* ToolApprovalTest::cluster_ = nullptr;

TEST_F(ToolApprovalTest, TheClientSeesTheQuestionAndItsAllowLetsTheToolRun) {
  const std::string name = startSession("client");
  std::vector<msg::PermissionRequest> asked;
  client::QueryOptions options;
  options.on_permission = [&](const msg::PermissionRequest& question) {
    asked.push_back(question);
    return PermissionAnswer::allowed();
  };
  auto reply = client_->query(name, R"(/tool Bash {"command":"git status"})", options);
  ASSERT_TRUE(reply.ok()) << reply.error().message << cluster_->logs();
  EXPECT_EQ(reply->text, R"(tool Bash allowed: {"command":"git status"})");
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].session, name);
  EXPECT_EQ(asked[0].tool_name, "Bash");
  EXPECT_EQ(Json::parse(asked[0].input), Json({{"command", "git status"}}));
  EXPECT_FALSE(asked[0].request.empty());
  EXPECT_EQ(asked[0].tool_use_id.rfind("toolu_", 0), 0u) << asked[0].tool_use_id;
  EXPECT_TRUE(Json::parse(asked[0].suggestions).is_array()) << asked[0].suggestions;
  EXPECT_FALSE(asked[0].reason.empty());
  EXPECT_EQ(asked[0].timeout_ms, SessionOptions::kDefaultPermissionTimeoutMs);
}

TEST_F(ToolApprovalTest, TheClientMayChangeTheInputOrDenyWithAReason) {
  const std::string name = startSession("client");
  client::QueryOptions options;
  options.on_permission = [](const msg::PermissionRequest&) {
    return PermissionAnswer::allowed(R"({"command":"git log"})");
  };
  auto changed = client_->query(name, R"(/tool Bash {"command":"git push"})", options);
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_EQ(changed->text, R"(tool Bash allowed: {"command":"git log"})");

  options.on_permission = [](const msg::PermissionRequest&) {
    return PermissionAnswer::denied("not on a Friday");
  };
  auto denied = client_->query(name, R"(/tool Bash {"command":"git push"})", options);
  ASSERT_TRUE(denied.ok()) << denied.error().message;
  EXPECT_EQ(denied->text, "tool Bash denied: not on a Friday");

  // An input that is not a JSON object is no allow: the tool does not run.
  options.on_permission = [](const msg::PermissionRequest&) {
    return PermissionAnswer::allowed("[1,2]");
  };
  auto bad = client_->query(name, R"(/tool Bash {"command":"git push"})", options);
  ASSERT_TRUE(bad.ok()) << bad.error().message;
  EXPECT_EQ(bad->text, "tool Bash denied: ccmesh: the updated input is not a JSON object");
}

TEST_F(ToolApprovalTest, AChangedInputMeetsTheSessionsDenyRules) {
  const std::string name = startSession("client", {"deny:Bash(rm:*)"});
  client::QueryOptions options;
  options.on_permission = [](const msg::PermissionRequest&) {
    return PermissionAnswer::allowed(R"({"command":"rm -rf /srv"})");
  };
  auto reply = client_->query(name, R"(/tool Bash {"command":"ls"})", options);
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->text,
            "tool Bash denied: ccmesh: the changed input is denied by the session's rule "
            "deny:Bash(rm:*)");
}

TEST_F(ToolApprovalTest, AClientWithoutAHandlerDeniesAtOnce) {
  const std::string name = startSession("client");
  auto reply = client_->query(name, "/tool Write {\"file_path\":\"/tmp/x\"}");
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->text, "tool Write denied: this client answers no tool questions");
}

TEST_F(ToolApprovalTest, AnUnansweredQuestionIsDeniedAtItsTimeoutAndTheTurnGoesOn) {
  const std::string name = startSession("client", {}, 300);
  const uint64_t id = client_->sendQuery(name, "/tool Bash ls");
  std::optional<client::Incoming> question;
  std::optional<client::Incoming> final_reply;
  ASSERT_TRUE(waitFor([&] {
    auto incoming = client_->receive(Millis{50});
    if (incoming && incoming->type == MessageType::kPermissionRequest) question = incoming;
    if (incoming && incoming->type != MessageType::kPermissionRequest) final_reply = incoming;
    return final_reply.has_value();
  }));
  ASSERT_TRUE(question.has_value());
  EXPECT_EQ(question->id, id);
  EXPECT_EQ(question->permission.timeout_ms, 300u);
  ASSERT_EQ(final_reply->type, MessageType::kResult) << final_reply->error.message;
  EXPECT_EQ(final_reply->result.text,
            "tool Bash denied: ccmesh: nobody answered whether Bash may run");
  // An answer after the timeout changes nothing, and the session goes on.
  client_->answerPermission(id, question->permission.request, PermissionAnswer::allowed());
  auto next = client_->query(name, "hello");
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->text, "turn 2: hello");
}

TEST_F(ToolApprovalTest, ACancelledQueryDeniesItsOpenQuestion) {
  const std::string name = startSession("client");
  const uint64_t id = client_->sendQuery(name, "/tool Bash ls");
  ASSERT_TRUE(waitFor([&] {
    auto incoming = client_->receive(Millis{50});
    return incoming && incoming->type == MessageType::kPermissionRequest;
  }));
  client_->cancel(id);
  std::optional<client::Incoming> final_reply;
  ASSERT_TRUE(waitFor([&] {
    final_reply = client_->receive(Millis{50});
    return final_reply.has_value();
  }));
  ASSERT_EQ(final_reply->type, MessageType::kError);
  EXPECT_EQ(final_reply->error.code, ErrorCode::kCancelled);
  auto next = client_->query(name, "hello");
  ASSERT_TRUE(next.ok()) << next.error().message;
}

TEST_F(ToolApprovalTest, PolicyRulesAllowOneCommandAndDenyAnother) {
  const std::string name = startSession("policy", {"allow:Bash(git status:*)", "deny:Bash(rm:*)"});
  auto allowed = client_->query(name, R"(/tool Bash {"command":"git status --short"})");
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  EXPECT_EQ(allowed->text, R"(tool Bash allowed: {"command":"git status --short"})");
  auto denied = client_->query(name, R"(/tool Bash {"command":"rm -rf build"})");
  ASSERT_TRUE(denied.ok()) << denied.error().message;
  EXPECT_EQ(denied->text, "tool Bash denied: ccmesh: denied by the session's rule deny:Bash(rm:*)");
  auto unmatched = client_->query(name, R"(/tool Read {"file_path":"/etc/passwd"})");
  ASSERT_TRUE(unmatched.ok()) << unmatched.error().message;
  EXPECT_EQ(unmatched->text, "tool Read denied: ccmesh: no rule of this session allows Read");
}

TEST_F(ToolApprovalTest, WithTheClientHandlerRulesDecideFirstAndTheRestIsAsked) {
  const std::string name = startSession("client", {"allow:Read"});
  int asked = 0;
  client::QueryOptions options;
  options.on_permission = [&](const msg::PermissionRequest&) {
    ++asked;
    return PermissionAnswer::allowed();
  };
  auto read = client_->query(name, R"(/tool Read {"file_path":"/srv/a"})", options);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->text, R"(tool Read allowed: {"file_path":"/srv/a"})");
  EXPECT_EQ(asked, 0);
  auto edit = client_->query(name, R"(/tool Edit {"file_path":"/srv/a"})", options);
  ASSERT_TRUE(edit.ok()) << edit.error().message;
  EXPECT_EQ(asked, 1);
}

TEST_F(ToolApprovalTest, TheDefaultHandlerDeniesWithoutAsking) {
  SessionOptions options;
  ASSERT_TRUE(client_->start("plain", options).ok());
  int asked = 0;
  client::QueryOptions query;
  query.on_permission = [&](const msg::PermissionRequest&) {
    ++asked;
    return PermissionAnswer::allowed();
  };
  auto reply = client_->query("plain", "/tool Bash ls", query);
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->text.rfind("tool Bash denied: ccmesh: this session answers no", 0), 0u)
      << reply->text;
  EXPECT_EQ(asked, 0);
}

TEST_F(ToolApprovalTest, APoolQueryCarriesTheQuestionToItsCaller) {
  client::PoolCreateOptions create;
  create.size = 1;
  create.options.permission_handler = "client";
  ASSERT_TRUE(client_->poolCreate("approvers", create).ok());
  std::string asked_by;
  client::QueryOptions options;
  options.on_permission = [&](const msg::PermissionRequest& question) {
    asked_by = question.session;
    return PermissionAnswer::allowed();
  };
  auto reply = client_->poolQuery("approvers", "/tool Bash ls", options);
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->text, R"(tool Bash allowed: {"command":"ls"})");
  EXPECT_EQ(asked_by, "approvers/0");
  EXPECT_EQ(reply->pool, "approvers");
}

TEST_F(ToolApprovalTest, EveryDecisionIsAnEventNamingWhoDecided) {
  const std::string name = startSession("client", {"deny:Bash(rm:*)"});
  const std::string out = cluster_->dir() + "/approval-watch.out";
  Process watch(binaryPath("ccmesh"),
                {"--broker", cluster_->frontend(), "watch", "--json", "--session", name}, out);
  // The watch is in place once it shows an event of this session.
  ASSERT_TRUE(waitFor([&] {
    (void)client_->query(name, "ping");
    return watch.log().find("query_finished") != std::string::npos;
  })) << watch.log();
  client::QueryOptions options;
  options.on_permission = [](const msg::PermissionRequest&) { return PermissionAnswer::allowed(); };
  ASSERT_TRUE(client_->query(name, "/tool Bash ls", options).ok());
  ASSERT_TRUE(client_->query(name, "/tool Bash rm x", options).ok());
  std::vector<Json> decided;
  bool asked = false;
  ASSERT_TRUE(waitFor([&] {
    decided.clear();
    std::istringstream lines(watch.log());
    for (std::string line; std::getline(lines, line);) {
      const auto event = Json::parse(line, nullptr, false);
      if (event.is_discarded()) continue;
      if (event.value("type", "") == "permission_asked") asked = true;
      if (event.value("type", "") == "permission_decided") decided.push_back(event);
    }
    return decided.size() == 2;
  })) << watch.log();
  EXPECT_TRUE(asked);
  EXPECT_EQ(decided[0]["tool"], "Bash");
  EXPECT_EQ(decided[0]["behavior"], "allow");
  EXPECT_EQ(decided[0]["decided_by"].get<std::string>().rfind("client ", 0), 0u) << decided[0];
  EXPECT_EQ(decided[1]["behavior"], "deny");
  EXPECT_EQ(decided[1]["decided_by"], "policy deny:Bash(rm:*)");
  watch.signal(SIGINT);
  EXPECT_EQ(watch.waitExit(kEventDeadline), 0) << watch.log();
}

TEST_F(ToolApprovalTest, TheToolAsksOnTheTerminalWithApprove) {
  const std::string name = startSession("client");
  auto yes = ccmesh({"query", name, "/tool Bash touch x", "--approve"}, "y\n");
  ASSERT_EQ(yes.exit_code, 0) << yes.err;
  EXPECT_EQ(yes.out, "tool Bash allowed: {\"command\":\"touch x\"}\n");
  EXPECT_NE(yes.err.find("asks to run Bash"), std::string::npos) << yes.err;
  EXPECT_NE(yes.err.find("touch x"), std::string::npos) << yes.err;
  auto no = ccmesh({"query", name, "/tool Bash touch x", "--approve"}, "n\n");
  ASSERT_EQ(no.exit_code, 0) << no.err;
  EXPECT_EQ(no.out, "tool Bash denied: denied by the user\n");
  auto all = ccmesh({"query", name, "/tool Bash touch x", "--approve-all"});
  EXPECT_EQ(all.out, "tool Bash allowed: {\"command\":\"touch x\"}\n") << all.err;
  auto none = ccmesh({"query", name, "/tool Bash touch x"});
  EXPECT_EQ(none.out, "tool Bash denied: denied: the caller answers no tool questions\n");
  EXPECT_NE(none.err.find("--approve"), std::string::npos) << none.err;
  auto both = ccmesh({"query", name, "hi", "--approve", "--deny-all"});
  EXPECT_EQ(both.exit_code, 2) << both.err;
}

TEST_F(ToolApprovalTest, BadApprovalOptionsAreRefusedNamingTheOption) {
  auto start = [&](const std::string& key, const std::string& value,
                   const std::string& handler = "policy") {
    SessionOptions options;
    options.permission_handler = handler;
    EXPECT_FALSE(options.set(key, value));
    return client_->start("bad-" + key, options);
  };
  auto handler = start("permission_handler", "ask-mom");
  ASSERT_FALSE(handler.ok());
  EXPECT_EQ(handler.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(handler.error().message.find("permission_handler"), std::string::npos);
  auto rule = start("permission_rules", "maybe:Bash");
  ASSERT_FALSE(rule.ok());
  EXPECT_NE(rule.error().message.find("permission_rules"), std::string::npos);
  auto deny_with_rules = start("permission_rules", "allow:Read", "deny");
  ASSERT_FALSE(deny_with_rules.ok());
  EXPECT_NE(deny_with_rules.error().message.find("permission_rules"), std::string::npos);
}

}  // namespace
}  // namespace ccmesh::test
