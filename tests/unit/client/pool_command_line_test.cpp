// `ccmesh pool SUBCOMMAND` parsing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "command_line.hpp"

namespace ccmesh::client {
namespace {

Expected<Command, UsageError> parse(const std::vector<std::string>& args) {
  CommandLineContext context;
  context.working_directory = "/home/u";
  return CommandLine::parse(args, context);
}

// The usage error of a command line that must not parse ("" if it parsed).
std::string usageError(const std::vector<std::string>& args) {
  auto parsed = parse(args);
  return parsed.ok() ? "" : parsed.error().message;
}

TEST(PoolCommandLine, CreateTakesSizeStrategyAndSessionOptions) {
  auto parsed = parse({"pool", "create", "helpers", "--size", "4", "--strategy", "least_busy",
                       "--system-prompt", "Be brief", "--cwd", "work", "--json"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->kind, CommandKind::kPoolCreate);
  EXPECT_EQ(parsed->session, "helpers");
  EXPECT_EQ(parsed->pool.size, 4u);
  EXPECT_EQ(parsed->pool.strategy, "least_busy");
  EXPECT_EQ(parsed->options.system_prompt, "Be brief");
  EXPECT_EQ(parsed->options.cwd, "/home/u/work");
  EXPECT_TRUE(parsed->json);
}

TEST(PoolCommandLine, CreateForksEveryMemberFromOneSession) {
  auto parsed = parse({"pool", "create", "helpers", "--size", "3", "--fork-of", "primer"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->pool.size, 3u);
  EXPECT_EQ(parsed->pool.fork_of, "primer");
  EXPECT_NE(usageError({"pool", "create", "t", "--members", "a", "--fork-of", "primer"})
                .find("--fork-of"),
            std::string::npos);
}

TEST(PoolCommandLine, CreateOverExistingSessions) {
  auto parsed = parse({"pool", "create", "team", "--members", "a,b", "--members", "c"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->pool.members, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(parsed->pool.size, 0u);
}

TEST(PoolCommandLine, QueryCheckoutCheckinResizeAndTheRest) {
  auto query = parse({"--timeout", "900", "pool", "query", "helpers", "hi there", "--stream"});
  ASSERT_TRUE(query.ok()) << query.error().message;
  EXPECT_EQ(query->kind, CommandKind::kPoolQuery);
  EXPECT_EQ(query->prompt, "hi there");
  EXPECT_TRUE(query->stream);
  EXPECT_EQ(query->query_timeout, Millis{900});

  auto checkout = parse({"pool", "checkout", "helpers", "--lease", "200"});
  ASSERT_TRUE(checkout.ok()) << checkout.error().message;
  EXPECT_EQ(checkout->kind, CommandKind::kPoolCheckout);
  EXPECT_EQ(checkout->pool.lease, Millis{200});

  auto checkin = parse({"pool", "checkin", "helpers", "helpers/2", "--lease-id", "7"});
  ASSERT_TRUE(checkin.ok()) << checkin.error().message;
  EXPECT_EQ(checkin->pool.member, "helpers/2");
  EXPECT_EQ(checkin->pool.lease_id, 7u);

  auto resize = parse({"pool", "resize", "helpers", "6"});
  ASSERT_TRUE(resize.ok()) << resize.error().message;
  EXPECT_EQ(resize->pool.size, 6u);

  EXPECT_EQ(parse({"pool", "list"})->kind, CommandKind::kPoolList);
  EXPECT_EQ(parse({"pool", "info", "helpers"})->kind, CommandKind::kPoolInfo);
  EXPECT_EQ(parse({"pool", "delete", "helpers"})->kind, CommandKind::kPoolDelete);
}

TEST(PoolCommandLine, RefusesIncompleteOrContradictoryLines) {
  EXPECT_NE(usageError({"pool"}).find("SUBCOMMAND"), std::string::npos);
  EXPECT_NE(usageError({"pool", "dance", "p"}).find("unknown command"), std::string::npos);
  EXPECT_NE(usageError({"pool", "create", "p"}).find("--size"), std::string::npos);
  EXPECT_NE(usageError({"pool", "create", "p", "--size", "2", "--members", "a"}), "");
  EXPECT_NE(usageError({"pool", "create", "p", "--size", "0"}), "");
  EXPECT_NE(usageError({"pool", "create", "p", "--size", "2", "--strategy", "fastest"}), "");
  EXPECT_NE(usageError({"pool", "create", "p", "--members", "a", "--model", "m"}), "");
  EXPECT_NE(usageError({"pool", "create", "-p", "--size", "2"}), "");
  EXPECT_NE(usageError({"pool", "query", "p"}).find("PROMPT"), std::string::npos);
  EXPECT_NE(usageError({"pool", "checkin", "p"}).find("MEMBER"), std::string::npos);
  EXPECT_NE(usageError({"pool", "checkout", "p", "--lease", "-5"}), "");
  EXPECT_NE(usageError({"pool", "resize", "p", "many"}), "");
}

TEST(PoolCommandLine, HelpListsThePoolCommands) {
  auto general = parse({"--help"});
  ASSERT_TRUE(general.ok());
  EXPECT_NE(general->text.find("pool checkout"), std::string::npos);
  auto pool = parse({"pool", "--help"});
  ASSERT_TRUE(pool.ok()) << pool.error().message;
  EXPECT_EQ(pool->kind, CommandKind::kHelp);
  EXPECT_NE(pool->text.find("pool resize NAME N"), std::string::npos);
  auto create = parse({"pool", "create", "--help"});
  ASSERT_TRUE(create.ok()) << create.error().message;
  EXPECT_NE(create->text.find("--strategy"), std::string::npos);
  EXPECT_NE(create->text.find("--system-prompt"), std::string::npos);
}

}  // namespace
}  // namespace ccmesh::client
