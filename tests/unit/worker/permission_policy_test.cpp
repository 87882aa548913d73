// How permission_rules decide the CLI's can_use_tool requests.
#include "ccmesh/worker/permission_policy.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ccmesh::worker {
namespace {

using Json = nlohmann::json;

PermissionPolicy policy(const std::vector<std::string>& entries) {
  auto parsed = PermissionPolicy::parse(entries);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.ok() ? std::move(parsed.value()) : PermissionPolicy({});
}

Json bash(const std::string& command) { return Json{{"command", command}}; }
Json file(const std::string& path) { return Json{{"file_path", path}}; }
Json url(const std::string& address) { return Json{{"url", address}, {"prompt", "summarise"}}; }

TEST(PermissionPolicy, DeniesWhenNoRuleMatches) {
  EXPECT_EQ(PermissionPolicy({}).decide("Bash", bash("ls")), (PolicyDecision{false, ""}));
  auto rules = policy({"allow:Read", "deny:Write"});
  EXPECT_EQ(rules.decide("Edit", file("/a")), (PolicyDecision{false, ""}));
  EXPECT_EQ(rules.decide("read", file("/a")), (PolicyDecision{false, ""}));  // exact names
}

TEST(PermissionPolicy, ToolAloneMatchesEveryUse) {
  auto rules = policy({"allow:Bash", "allow:Read"});
  EXPECT_EQ(rules.decide("Bash", bash("rm -rf / ; curl x | sh")),
            (PolicyDecision{true, "allow:Bash"}));
  EXPECT_EQ(rules.decide("Read", file("/etc/../etc/shadow")), (PolicyDecision{true, "allow:Read"}));
  EXPECT_EQ(rules.decide("Read", Json::object()), (PolicyDecision{true, "allow:Read"}));
}

TEST(PermissionPolicy, DenyWinsOverAllowWhateverTheOrder) {
  auto rules = policy({"allow:Bash", "allow:Bash(rm:*)", "deny:Bash(rm:*)", "deny:Write"});
  EXPECT_EQ(rules.decide("Bash", bash("rm -rf x")), (PolicyDecision{false, "deny:Bash(rm:*)"}));
  EXPECT_EQ(rules.decide("Bash", bash("ls")), (PolicyDecision{true, "allow:Bash"}));
  auto reversed = policy({"deny:Read(/etc/**)", "allow:Read"});
  EXPECT_EQ(reversed.decide("Read", file("/etc/passwd")),
            (PolicyDecision{false, "deny:Read(/etc/**)"}));
  EXPECT_TRUE(reversed.decide("Read", file("/srv/a")).allow);
}

TEST(PermissionPolicy, ReportsTheFirstMatchingAllowRule) {
  auto rules = policy({"allow:Bash(git status)", "allow:Bash(git:*)", "allow:Bash"});
  EXPECT_EQ(rules.decide("Bash", bash("git status")).rule, "allow:Bash(git status)");
  EXPECT_EQ(rules.decide("Bash", bash("git log")).rule, "allow:Bash(git:*)");
}

TEST(PermissionPolicy, BashPrefixRuleMatchesThePrefixAsAWord) {
  auto rules = policy({"allow:Bash(git status:*)"});
  EXPECT_TRUE(rules.decide("Bash", bash("git status")).allow);
  EXPECT_TRUE(rules.decide("Bash", bash("git status --short")).allow);
  EXPECT_TRUE(rules.decide("Bash", bash("  git status\t-s  ")).allow);
  EXPECT_FALSE(rules.decide("Bash", bash("git statusx")).allow);
  EXPECT_FALSE(rules.decide("Bash", bash("git stat")).allow);
  EXPECT_FALSE(rules.decide("Bash", bash("sudo git status")).allow);
}

TEST(PermissionPolicy, BashExactRuleMatchesOnlyThatCommand) {
  auto rules = policy({"allow:Bash(npm test)"});
  EXPECT_TRUE(rules.decide("Bash", bash("npm test")).allow);
  EXPECT_TRUE(rules.decide("Bash", bash(" npm test\n")).allow);  // surrounding blanks trimmed
  EXPECT_FALSE(rules.decide("Bash", bash("npm test --watch")).allow);
  EXPECT_FALSE(rules.decide("Bash", bash("npm  test")).allow);
}

TEST(PermissionPolicy, BashAllowRefusesCompoundCommands) {
  auto rules = policy({"allow:Bash(git status:*)", "allow:Bash(ls)"});
  for (const char* command :
       {"git status; rm -rf x", "git status && rm x", "git status || rm x", "git status | sh",
        "git status & rm x", "git status `rm x`", "git status $(rm x)", "git status > /etc/x",
        "git status < /etc/shadow", "git status\nrm x", "git status 'a;b'"}) {
    EXPECT_EQ(rules.decide("Bash", bash(command)), (PolicyDecision{false, ""})) << command;
  }
  EXPECT_TRUE(rules.decide("Bash", bash("git status $HOME")).allow);  // no substitution
}

TEST(PermissionPolicy, BashDenyCatchesAnySegment) {
  auto rules = policy({"allow:Bash", "deny:Bash(rm:*)", "deny:Bash(curl example.com)"});
  for (const char* command :
       {"rm -rf x", "ls && rm -rf x", "ls || rm x", "ls; rm x", "ls | rm x", "ls & rm x",
        "ls\nrm x", "echo $(rm x)", "echo `rm x`", "(rm x)", "ls;curl example.com ; ls"}) {
    EXPECT_FALSE(rules.decide("Bash", bash(command)).allow) << command;
  }
  EXPECT_EQ(rules.decide("Bash", bash("ls && rm -rf x")).rule, "deny:Bash(rm:*)");
  EXPECT_TRUE(rules.decide("Bash", bash("ls -l; echo rmdir")).allow);
  EXPECT_TRUE(rules.decide("Bash", bash("curl example.com/x")).allow);
}

TEST(PermissionPolicy, BashRulesNeedACommandString) {
  auto rules = policy({"allow:Bash(ls)", "deny:Bash(ls)"});
  EXPECT_EQ(rules.decide("Bash", Json::object()), (PolicyDecision{false, ""}));
  EXPECT_EQ(rules.decide("Bash", Json{{"command", 42}}), (PolicyDecision{false, ""}));
  EXPECT_EQ(rules.decide("Bash", Json::array({"ls"})), (PolicyDecision{false, ""}));
  auto allow_all = policy({"allow:Bash", "deny:Bash(rm:*)"});
  EXPECT_TRUE(allow_all.decide("Bash", Json::object()).allow);
}

TEST(PermissionPolicy, FileRulesMatchGlobsOverTheWholePath) {
  auto rules = policy({"allow:Edit(/srv/app/**)", "allow:Read(/srv/*.md)",
                       "allow:Write(/srv/log?.txt)", "allow:Glob(/srv/**/*.ts)"});
  EXPECT_TRUE(rules.decide("Edit", file("/srv/app/a.cpp")).allow);
  EXPECT_TRUE(rules.decide("Edit", file("/srv/app/deep/er/b.cpp")).allow);
  EXPECT_FALSE(rules.decide("Edit", file("/srv/app")).allow);
  EXPECT_FALSE(rules.decide("Edit", file("/srv/apple/a")).allow);
  EXPECT_FALSE(rules.decide("Edit", file("/x/srv/app/a")).allow);  // the whole path
  EXPECT_TRUE(rules.decide("Read", file("/srv/README.md")).allow);
  EXPECT_FALSE(rules.decide("Read", file("/srv/docs/README.md")).allow);  // * stops at '/'
  EXPECT_FALSE(rules.decide("Read", file("/srv/README.md.bak")).allow);
  EXPECT_TRUE(rules.decide("Write", file("/srv/log1.txt")).allow);
  EXPECT_FALSE(rules.decide("Write", file("/srv/log12.txt")).allow);
  EXPECT_FALSE(rules.decide("Write", file("/srv/log/.txt")).allow);      // ? is not '/'
  EXPECT_TRUE(rules.decide("Glob", Json{{"path", "/srv/a.ts"}}).allow);  // **/ may be empty
  EXPECT_TRUE(rules.decide("Glob", Json{{"path", "/srv/x/y/a.ts"}}).allow);
  EXPECT_FALSE(rules.decide("Glob", Json{{"path", "/srv/x/a.tsx"}}).allow);
  EXPECT_FALSE(rules.decide("Read", file("/srv/app/a.cpp")).allow);  // rules are per tool
}

TEST(PermissionPolicy, OtherSpellingsOfAPathMeetTheDenyRulesAndNoAllowRule) {
  auto rules = policy({"allow:Edit(/srv/app/**)", "deny:Edit(/srv/app/secret/**)"});
  EXPECT_TRUE(rules.decide("Edit", file("/srv/app/a.cpp")).allow);
  EXPECT_FALSE(rules.decide("Edit", file("/srv/app/secret/k")).allow);
  EXPECT_EQ(rules.decide("Edit", file("/srv/app/./secret/k")).rule,
            "deny:Edit(/srv/app/secret/**)");
  EXPECT_EQ(rules.decide("Edit", file("/srv/app//secret/k")).rule, "deny:Edit(/srv/app/secret/**)");
  EXPECT_FALSE(rules.decide("Edit", file("/srv/app/./a.cpp")).allow);  // only the plain spelling
}

TEST(PermissionPolicy, FileRulesReadFilePathThenNotebookPathThenPath) {
  auto rules = policy({"allow:NotebookEdit(/nb/**)", "allow:Grep(/src/**)", "allow:LS(/src/**)",
                       "allow:MultiEdit(/src/**)"});
  EXPECT_TRUE(rules.decide("NotebookEdit", Json{{"notebook_path", "/nb/a.ipynb"}}).allow);
  EXPECT_TRUE(rules.decide("Grep", Json{{"pattern", "x"}, {"path", "/src/lib"}}).allow);
  EXPECT_FALSE(rules.decide("LS", Json{{"path", "/src"}}).allow);  // /src/** needs more
  EXPECT_TRUE(rules.decide("MultiEdit", Json{{"file_path", "/src/a"}, {"path", "/etc"}}).allow);
  EXPECT_FALSE(rules.decide("MultiEdit", Json{{"file_path", "/etc/a"}, {"path", "/src/a"}}).allow);
  // The first field present decides, even when it is not a string.
  EXPECT_FALSE(rules.decide("MultiEdit", Json{{"file_path", 1}, {"path", "/src/a"}}).allow);
}

TEST(PermissionPolicy, AllowNeverMatchesAParentComponent) {
  auto rules = policy({"allow:Read(/srv/**)", "allow:Write(/srv/**)", "deny:Write(/srv/**)"});
  EXPECT_FALSE(rules.decide("Read", file("/srv/../etc/shadow")).allow);
  EXPECT_FALSE(rules.decide("Read", file("/srv/a/..")).allow);
  EXPECT_TRUE(rules.decide("Read", file("/srv/a/..b/c")).allow);  // not a .. component
  EXPECT_FALSE(rules.decide("Read", file("/srv/a/./b")).allow);   // only the plain spelling
  // A deny rule still matches such a path.
  EXPECT_EQ(rules.decide("Write", file("/srv/../srv/x")).rule, "deny:Write(/srv/**)");
}

TEST(PermissionPolicy, FileRulesWithASpecifierNeedAPath) {
  auto rules = policy({"allow:Read(/**)", "deny:Read(/**)", "allow:Glob"});
  EXPECT_EQ(rules.decide("Read", Json::object()), (PolicyDecision{false, ""}));
  EXPECT_EQ(rules.decide("Read", Json{{"file_path", nullptr}}), (PolicyDecision{false, ""}));
  EXPECT_EQ(rules.decide("Read", Json("/etc/passwd")), (PolicyDecision{false, ""}));
  EXPECT_TRUE(rules.decide("Glob", Json{{"pattern", "*.ts"}}).allow);  // no specifier
}

TEST(PermissionPolicy, GlobMatchingStaysFastOnHostilePaths) {
  auto rules = policy({"allow:Read(/**a**a**a**a**a**a**a**a**b)"});
  EXPECT_FALSE(rules.decide("Read", file("/" + std::string(20000, 'a'))).allow);
}

TEST(PermissionPolicy, McpServerRuleMatchesEveryToolOfThatServer) {
  auto rules =
      policy({"allow:mcp__github", "deny:mcp__github__delete_repo", "allow:mcp__db__query"});
  EXPECT_EQ(rules.decide("mcp__github__create_issue", Json::object()),
            (PolicyDecision{true, "allow:mcp__github"}));
  EXPECT_EQ(rules.decide("mcp__github__delete_repo", Json::object()),
            (PolicyDecision{false, "deny:mcp__github__delete_repo"}));
  EXPECT_FALSE(rules.decide("mcp__githubx__a", Json::object()).allow);
  EXPECT_TRUE(rules.decide("mcp__github", Json::object()).allow);
  EXPECT_TRUE(rules.decide("mcp__db__query", Json::object()).allow);
  EXPECT_FALSE(rules.decide("mcp__db__drop", Json::object()).allow);
  // A server__tool rule is not a prefix of longer tool names.
  EXPECT_FALSE(rules.decide("mcp__db__query__all", Json::object()).allow);
}

TEST(PermissionPolicy, WebFetchDomainMatchesTheHostAndItsSubdomains) {
  auto rules = policy({"allow:WebFetch(domain:example.com)"});
  for (const char* address :
       {"https://example.com", "https://example.com/a?b#c", "http://docs.example.com/x",
        "https://EXAMPLE.com.:8443/", "https://user:pw@example.com/", "https://a.b.example.com"}) {
    EXPECT_TRUE(rules.decide("WebFetch", url(address)).allow) << address;
  }
  for (const char* address :
       {"https://example.com.evil.net/", "https://badexample.com/", "https://evil.net/example.com",
        "https://example.com@evil.net/", "https://evil.net\\@example.com/", "example.com/x",
        "https://exam%70le.com/", "https://evil.net?example.com", "https:///example.com"}) {
    EXPECT_FALSE(rules.decide("WebFetch", url(address)).allow) << address;
  }
  EXPECT_FALSE(rules.decide("WebFetch", Json{{"prompt", "no url"}}).allow);
}

TEST(PermissionPolicy, WebFetchDenyAlsoCatchesHostsItCannotRead) {
  auto rules = policy({"allow:WebFetch", "deny:WebFetch(domain:evil.net)"});
  EXPECT_FALSE(rules.decide("WebFetch", url("https://www.evil.net/x")).allow);
  EXPECT_FALSE(rules.decide("WebFetch", url("https://ev%69l.net/")).allow);
  EXPECT_FALSE(rules.decide("WebFetch", url("not a url")).allow);
  EXPECT_TRUE(rules.decide("WebFetch", url("https://good.org/")).allow);
  EXPECT_TRUE(rules.decide("WebFetch", Json::object()).allow);  // no url: the deny rule is silent
}

TEST(PermissionPolicy, OtherSpecifiersAllowNothingAndDenyEverything) {
  auto allow_only = policy({"allow:WebSearch(cats)", "allow:mcp__db__query(select)",
                            "allow:WebFetch(https://example.com)"});
  EXPECT_FALSE(allow_only.decide("WebSearch", Json{{"query", "cats"}}).allow);
  EXPECT_FALSE(allow_only.decide("mcp__db__query", Json{{"sql", "select"}}).allow);
  EXPECT_FALSE(allow_only.decide("WebFetch", url("https://example.com")).allow);
  auto with_deny =
      policy({"allow:WebSearch", "deny:WebSearch(dogs)", "allow:mcp__db", "deny:mcp__db(drop)"});
  EXPECT_EQ(with_deny.decide("WebSearch", Json{{"query", "cats"}}),
            (PolicyDecision{false, "deny:WebSearch(dogs)"}));
  EXPECT_EQ(with_deny.decide("mcp__db__query", Json{{"sql", "select"}}),
            (PolicyDecision{false, "deny:mcp__db(drop)"}));
}

TEST(PermissionPolicy, ParseNamesTheFirstBadEntry) {
  auto parsed = PermissionPolicy::parse({"allow:Read", "Bash(ls)", "deny:"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(parsed.error().message.find("'Bash(ls)'"), std::string::npos);
  auto good = PermissionPolicy::parse({"allow:Read", "deny:Bash(rm:*)"});
  ASSERT_TRUE(good.ok());
  ASSERT_EQ(good->rules().size(), 2u);
  EXPECT_EQ(good->rules()[1].specifier, "rm:*");
}

}  // namespace
}  // namespace ccmesh::worker
