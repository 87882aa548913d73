#include "command_line.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ccmesh::client {
namespace {

Expected<Command, UsageError> parse(const std::vector<std::string>& args,
                                    std::optional<std::string> env_broker = std::nullopt) {
  return CommandLine::parse(args, CommandLineContext{std::move(env_broker), "/home/u"});
}

// The usage error of a command line that must not parse ("" if it parsed).
std::string usageError(const std::vector<std::string>& args) {
  auto parsed = parse(args);
  return parsed.ok() ? "" : parsed.error().message;
}

TEST(CommandLine, GlobalOptionsMayFollowTheCommand) {
  auto parsed = parse({"list", "--json", "--timeout", "500", "--broker", "tcp://h:1"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->kind, CommandKind::kList);
  EXPECT_TRUE(parsed->json);
  EXPECT_EQ(parsed->timeout, Millis{500});
  EXPECT_EQ(parsed->broker, "tcp://h:1");
}

TEST(CommandLine, GlobalOptionsMayPrecedeTheCommand) {
  auto parsed = parse({"--broker=tcp://h:2", "--json", "count"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->kind, CommandKind::kCount);
  EXPECT_TRUE(parsed->json);
  EXPECT_EQ(parsed->broker, "tcp://h:2");
  EXPECT_EQ(parsed->timeout, Millis{60000});
}

TEST(CommandLine, MoveNeedsATargetWorker) {
  auto parsed = parse({"move", "s", "--to", "w2"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->kind, CommandKind::kMove);
  EXPECT_EQ(parsed->session, "s");
  EXPECT_EQ(parsed->worker, "w2");
  EXPECT_NE(usageError({"move", "s"}).find("missing --to WORKER"), std::string::npos);
  auto transcript = parse({"transcript", "s", "--json"});
  ASSERT_TRUE(transcript.ok()) << transcript.error().message;
  EXPECT_EQ(transcript->kind, CommandKind::kTranscript);
  EXPECT_TRUE(transcript->json);
}

TEST(CommandLine, BrokerDefaultsToTheEnvironmentThenLoopback) {
  EXPECT_EQ(parse({"ping"})->broker, "tcp://127.0.0.1:5555");
  EXPECT_EQ(parse({"ping"}, "tcp://env:7")->broker, "tcp://env:7");
  EXPECT_EQ(parse({"ping", "--broker", "tcp://flag:8"}, "tcp://env:7")->broker, "tcp://flag:8");
}

TEST(CommandLine, QueryTakesNamePromptAndStream) {
  auto parsed = parse({"--timeout", "500", "query", "s1", "hi there", "--stream"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->kind, CommandKind::kQuery);
  EXPECT_EQ(parsed->session, "s1");
  EXPECT_EQ(parsed->prompt, "hi there");
  EXPECT_TRUE(parsed->stream);
  EXPECT_EQ(parsed->timeout, Millis{500});
  EXPECT_EQ(parsed->query_timeout, Millis{500});
  auto plain = parse({"query", "s", "p"});
  EXPECT_FALSE(plain->stream);
  EXPECT_EQ(plain->timeout, Millis{60000});
  EXPECT_EQ(plain->query_timeout, Millis{0});  // the session's query_timeout_ms applies
}

TEST(CommandLine, PromptStartingWithADashFollowsDoubleDash) {
  auto parsed = parse({"query", "s", "--timeout", "9", "--", "-x marks"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->prompt, "-x marks");
  EXPECT_EQ(parsed->timeout, Millis{9});
}

TEST(CommandLine, ForkTakesSourceNameAndSessionOptions) {
  auto parsed = parse({"fork", "primer", "reviewer", "--model", "m2", "--cwd", "work"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->kind, CommandKind::kFork);
  EXPECT_EQ(parsed->fork_of, "primer");
  EXPECT_EQ(parsed->session, "reviewer");
  EXPECT_EQ(parsed->options.model, "m2");
  EXPECT_EQ(parsed->options.cwd, "/home/u/work");

  auto missing = parse({"fork", "primer"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing NAME"), std::string::npos);
}

TEST(CommandLine, StartMapsFlagsToSessionOptions) {
  auto parsed = parse({"start",
                       "s",
                       "--system-prompt",
                       "be brief",
                       "--append-system-prompt",
                       "and kind",
                       "--model",
                       "opus",
                       "--max-turns",
                       "3",
                       "--allowed-tools",
                       "Read,Grep",
                       "--disallowed-tools",
                       "Bash",
                       "--add-dir",
                       "a,/b",
                       "--add-dir",
                       "../c",
                       "--cwd",
                       "work/./dir",
                       "--permission-mode",
                       "plan",
                       "--env",
                       "A=1",
                       "--env",
                       "B=x=y",
                       "--query-timeout",
                       "1500"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->kind, CommandKind::kStart);
  EXPECT_EQ(parsed->session, "s");
  const SessionOptions& o = parsed->options;
  EXPECT_EQ(o.system_prompt, "be brief");
  EXPECT_EQ(o.append_system_prompt, "and kind");
  EXPECT_EQ(o.model, "opus");
  EXPECT_EQ(o.max_turns, 3u);
  EXPECT_EQ(o.allowed_tools, (std::vector<std::string>{"Read", "Grep"}));
  EXPECT_EQ(o.disallowed_tools, (std::vector<std::string>{"Bash"}));
  EXPECT_EQ(o.add_dir, (std::vector<std::string>{"/home/u/a", "/b", "/home/c"}));
  EXPECT_EQ(o.cwd, "/home/u/work/dir");
  EXPECT_EQ(o.permission_mode, "plan");
  EXPECT_EQ(o.env, (std::map<std::string, std::string>{{"A", "1"}, {"B", "x=y"}}));
  EXPECT_EQ(o.query_timeout_ms, 1500u);
}

TEST(CommandLine, AbsoluteCwdIsKeptAndDotIsTheCallersDirectory) {
  EXPECT_EQ(parse({"start", "s", "--cwd", "/srv/x"})->options.cwd, "/srv/x");
  EXPECT_EQ(parse({"start", "s", "--cwd", "."})->options.cwd, "/home/u");
}

TEST(CommandLine, BadStartOptionIsAUsageErrorNamingIt) {
  EXPECT_NE(usageError({"start", "s", "--max-turns", "many"}).find("max_turns"), std::string::npos);
  EXPECT_NE(usageError({"start", "s", "--permission-mode", "yolo"}).find("permission_mode"),
            std::string::npos);
  EXPECT_NE(usageError({"start", "s", "--env", "=1"}).find("env"), std::string::npos);
  EXPECT_NE(usageError({"start", "s", "--query-timeout=-1"}).find("query_timeout_ms"),
            std::string::npos);
}

TEST(CommandLine, UnknownCommandIsAUsageError) {
  EXPECT_NE(usageError({"frobnicate"}).find("unknown command 'frobnicate'"), std::string::npos);
}

TEST(CommandLine, MissingArgumentsAreUsageErrors) {
  EXPECT_NE(usageError({}).find("no command"), std::string::npos);
  EXPECT_NE(usageError({"query", "s"}).find("PROMPT"), std::string::npos);
  EXPECT_NE(usageError({"info"}).find("NAME"), std::string::npos);
  EXPECT_NE(usageError({"terminate"}), "");
  EXPECT_NE(usageError({"--broker"}), "");
}

TEST(CommandLine, ExtraOrUnknownArgumentsAreUsageErrors) {
  EXPECT_NE(usageError({"list", "--bogus"}), "");
  EXPECT_NE(usageError({"list", "--stream"}), "");  // an option of another command
  EXPECT_NE(usageError({"list", "extra"}), "");
  EXPECT_NE(usageError({"query", "s", "hello", "world"}), "");
  EXPECT_NE(usageError({"query", "s", "p", "--str"}), "");  // no guessing of prefixes
}

TEST(CommandLine, TimeoutMustBeAPositiveNumber) {
  EXPECT_NE(usageError({"ping", "--timeout", "0"}), "");
  EXPECT_NE(usageError({"ping", "--timeout", "-5"}), "");
  EXPECT_NE(usageError({"ping", "--timeout", "soon"}), "");
}

TEST(CommandLine, UsageErrorRemembersJson) {
  auto parsed = parse({"bogus", "--json"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(parsed.error().json);
  EXPECT_FALSE(parse({"bogus"}).error().json);
}

TEST(CommandLine, RestartTakesKeepHistory) {
  EXPECT_TRUE(parse({"restart", "s", "--keep-history"})->keep_history);
  EXPECT_FALSE(parse({"restart", "s"})->keep_history);
}

TEST(CommandLine, HelpDescribesTheToolAndEachCommand) {
  auto general = parse({"--help"});
  ASSERT_TRUE(general.ok());
  EXPECT_EQ(general->kind, CommandKind::kHelp);
  for (const char* word : {"query", "start", "terminate", "restart", "info", "list", "count",
                           "status", "ping", "--broker", "--json", "--timeout", "Exit status"}) {
    EXPECT_NE(general->text.find(word), std::string::npos) << word;
  }
  auto query = parse({"query", "--help"});
  ASSERT_TRUE(query.ok());
  EXPECT_NE(query->text.find("--stream"), std::string::npos);
  auto start = parse({"start", "-h"});
  ASSERT_TRUE(start.ok());
  for (const char* flag : {"--system-prompt", "--append-system-prompt", "--model", "--max-turns",
                           "--allowed-tools", "--disallowed-tools", "--add-dir", "--cwd",
                           "--permission-mode", "--env", "--query-timeout"}) {
    EXPECT_NE(start->text.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace ccmesh::client
