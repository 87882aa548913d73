#include "ccmesh/worker/cli_command.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace ccmesh::worker {
namespace {

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// The value following `flag` in argv, or "<missing>".
std::string valueOf(const std::vector<std::string>& argv, const std::string& flag) {
  auto it = std::find(argv.begin(), argv.end(), flag);
  if (it == argv.end() || std::next(it) == argv.end()) return "<missing>";
  return *std::next(it);
}

CliCommand build(const SessionOptions& options, ConversationStart start = ConversationStart::kNew,
                 CliSettings settings = {"/opt/claude", {}, {}},
                 std::map<std::string, std::string> base = {{"PATH", "/usr/bin"}}) {
  return CliCommand::build(settings, options, start, "0f8fad5b-d9cb-469f-a165-70867728950e", base);
}

TEST(CliCommand, AlwaysSpeaksStreamJson) {
  auto command = build({});
  EXPECT_EQ(command.program, "/opt/claude");
  ASSERT_FALSE(command.argv.empty());
  EXPECT_EQ(command.argv[0], "/opt/claude");
  EXPECT_EQ(valueOf(command.argv, "--input-format"), "stream-json");
  EXPECT_EQ(valueOf(command.argv, "--output-format"), "stream-json");
  // Tool questions come to the worker, which answers them by the session's handler.
  EXPECT_EQ(valueOf(command.argv, "--permission-prompt-tool"), "stdio");
  EXPECT_TRUE(contains(command.argv, "--verbose"));
  EXPECT_TRUE(contains(command.argv, "--include-partial-messages"));
  EXPECT_TRUE(contains(command.argv, "-p"));
  // Unset options add no flags.
  EXPECT_FALSE(contains(command.argv, "--model"));
  EXPECT_FALSE(contains(command.argv, "--system-prompt"));
  EXPECT_FALSE(contains(command.argv, "--max-turns"));
  EXPECT_TRUE(command.cwd.empty());
}

TEST(CliCommand, MirrorsTheTranscriptUnlessTheWorkerSaysNot) {
  EXPECT_TRUE(contains(build({}).argv, "--session-mirror"));
  CliSettings settings{"/opt/claude", {}, {}};
  settings.session_mirror = false;
  auto command = CliCommand::build(settings, {}, ConversationStart::kNew, "id", {});
  EXPECT_FALSE(contains(command.argv, "--session-mirror"));
}

TEST(CliCommand, PinsTheConversationWithTheEqualsForm) {
  auto fresh = build({}, ConversationStart::kNew);
  EXPECT_TRUE(contains(fresh.argv, "--session-id=0f8fad5b-d9cb-469f-a165-70867728950e"));
  EXPECT_FALSE(contains(fresh.argv, "--session-id"));
  auto resumed = build({}, ConversationStart::kResume);
  EXPECT_TRUE(contains(resumed.argv, "--resume=0f8fad5b-d9cb-469f-a165-70867728950e"));
  EXPECT_FALSE(contains(resumed.argv, "--resume"));
  for (const auto& arg : resumed.argv) EXPECT_NE(arg.rfind("--session-id", 0), 0u) << arg;
}

TEST(CliCommand, AForkResumesTheSourceUnderItsOwnId) {
  auto command = CliCommand::build({"/opt/claude", {}, {}}, {}, ConversationStart::kFork, "new-id",
                                   {}, "source-id");
  EXPECT_TRUE(contains(command.argv, "--resume=source-id"));
  EXPECT_TRUE(contains(command.argv, "--fork-session"));
  EXPECT_TRUE(contains(command.argv, "--session-id=new-id"));
  EXPECT_FALSE(contains(command.argv, "--resume=new-id"));
}

TEST(CliCommand, MapsEveryOptionToItsFlag) {
  SessionOptions options;
  options.system_prompt = "be brief";
  options.append_system_prompt = "and kind";
  options.model = "claude-sonnet-4-5";
  options.max_turns = 7;
  options.allowed_tools = {"Read", "Bash(git:*)"};
  options.disallowed_tools = {"Write", "Edit"};
  options.add_dir = {"/a", "/b"};
  options.permission_mode = "acceptEdits";
  options.cwd = "/srv/project";
  auto command = build(options);
  const auto& argv = command.argv;
  EXPECT_EQ(valueOf(argv, "--system-prompt"), "be brief");
  EXPECT_EQ(valueOf(argv, "--append-system-prompt"), "and kind");
  EXPECT_EQ(valueOf(argv, "--model"), "claude-sonnet-4-5");
  EXPECT_EQ(valueOf(argv, "--max-turns"), "7");
  EXPECT_EQ(valueOf(argv, "--allowedTools"), "Read,Bash(git:*)");
  EXPECT_EQ(valueOf(argv, "--disallowedTools"), "Write,Edit");
  EXPECT_EQ(valueOf(argv, "--permission-mode"), "acceptEdits");
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--add-dir"), 2);
  auto first = std::find(argv.begin(), argv.end(), "--add-dir");
  EXPECT_EQ(*std::next(first), "/a");
  EXPECT_EQ(valueOf(std::vector<std::string>(std::next(first, 2), argv.end()), "--add-dir"), "/b");
  EXPECT_EQ(command.cwd, "/srv/project");
}

TEST(CliCommand, AppendsTheWorkersExtraArgumentsLast) {
  auto command = build({}, ConversationStart::kNew,
                       CliSettings{"claude", {"--session-mirror", "--effort=high"}, {}});
  ASSERT_GE(command.argv.size(), 2u);
  EXPECT_EQ(command.argv[command.argv.size() - 2], "--session-mirror");
  EXPECT_EQ(command.argv.back(), "--effort=high");
}

TEST(CliCommand, MergesEnvironmentWithLaterSourcesWinning) {
  SessionOptions options;
  options.env = {{"A", "from-options"}, {"B", "from-options"}};
  options.cwd = "/work";
  CliSettings settings{"claude", {}, {"B=from-worker", "C=x=y", "malformed"}};
  std::map<std::string, std::string> base{
      {"A", "base"}, {"HOME", "/home/u"}, {"CLAUDECODE", "1"}, {"PWD", "/elsewhere"}};
  auto command = build(options, ConversationStart::kNew, settings, base);
  const auto& env = command.env;
  EXPECT_TRUE(contains(env, "A=from-options"));
  EXPECT_TRUE(contains(env, "B=from-worker"));
  EXPECT_TRUE(contains(env, "C=x=y"));
  EXPECT_TRUE(contains(env, "HOME=/home/u"));
  EXPECT_TRUE(contains(env, "PWD=/work"));
  EXPECT_FALSE(contains(env, "malformed"));
  for (const auto& entry : env) {
    EXPECT_NE(entry.rfind("CLAUDECODE=", 0), 0u) << "CLAUDECODE must not reach the CLI";
  }
  EXPECT_EQ(std::count_if(env.begin(), env.end(),
                          [](const std::string& e) { return e.rfind("A=", 0) == 0; }),
            1);
}

TEST(CliCommand, CurrentEnvironmentReadsThisProcess) {
  ::setenv("CCMESH_CLI_COMMAND_TEST", "v=1", 1);
  auto env = CliCommand::currentEnvironment();
  EXPECT_EQ(env["CCMESH_CLI_COMMAND_TEST"], "v=1");
}

}  // namespace
}  // namespace ccmesh::worker
