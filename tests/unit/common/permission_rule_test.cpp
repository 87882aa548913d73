// The syntax of permission_rules entries: allow:/deny: and Claude Code's Tool(SPECIFIER).
#include "ccmesh/common/permission_rule.hpp"

#include <gtest/gtest.h>

namespace ccmesh {
namespace {

// The error message of parsing `entry`, which must fail with bad_request.
std::string refusal(std::string_view entry) {
  auto parsed = parsePermissionRule(entry);
  if (parsed.ok()) return "<accepted>";
  EXPECT_EQ(parsed.error().code, ErrorCode::kBadRequest) << entry;
  return parsed.error().message;
}

TEST(PermissionRule, ParsesToolAlone) {
  auto rule = parsePermissionRule("allow:Read");
  ASSERT_TRUE(rule.ok()) << rule.error().message;
  EXPECT_TRUE(rule->allow);
  EXPECT_EQ(rule->tool, "Read");
  EXPECT_FALSE(rule->specifier);
  EXPECT_EQ(rule->text, "allow:Read");

  auto mcp = parsePermissionRule("deny:mcp__github__create-issue");
  ASSERT_TRUE(mcp.ok()) << mcp.error().message;
  EXPECT_FALSE(mcp->allow);
  EXPECT_EQ(mcp->tool, "mcp__github__create-issue");
  EXPECT_FALSE(mcp->specifier);
}

TEST(PermissionRule, ParsesToolWithSpecifier) {
  auto prefix = parsePermissionRule("allow:Bash(git status:*)");
  ASSERT_TRUE(prefix.ok()) << prefix.error().message;
  EXPECT_EQ(prefix.value(),
            (PermissionRule{true, "Bash", "git status:*", "allow:Bash(git status:*)"}));

  auto glob = parsePermissionRule("deny:Edit(/srv/app/**)");
  ASSERT_TRUE(glob.ok());
  EXPECT_EQ(glob->tool, "Edit");
  EXPECT_EQ(glob->specifier, "/srv/app/**");

  auto domain = parsePermissionRule("allow:WebFetch(domain:example.com)");
  ASSERT_TRUE(domain.ok());
  EXPECT_EQ(domain->specifier, "domain:example.com");
}

TEST(PermissionRule, KeepsBalancedParenthesesInsideTheSpecifier) {
  auto rule = parsePermissionRule("deny:Bash(echo (a) (b))");
  ASSERT_TRUE(rule.ok()) << rule.error().message;
  EXPECT_EQ(rule->specifier, "echo (a) (b)");
}

TEST(PermissionRule, RefusesAMissingAllowOrDeny) {
  for (const char* entry : {"Bash", "permit:Bash", "Allow:Bash", "allow Bash", ""}) {
    std::string message = refusal(entry);
    EXPECT_NE(message.find("allow:PATTERN or deny:PATTERN"), std::string::npos) << entry;
    EXPECT_NE(message.find("permission_rules"), std::string::npos) << entry;
  }
}

TEST(PermissionRule, RefusesAnEmptyTool) {
  EXPECT_NE(refusal("allow:").find("empty tool name"), std::string::npos);
  EXPECT_NE(refusal("deny:(rm:*)").find("empty tool name"), std::string::npos);
}

TEST(PermissionRule, RefusesUnbalancedParentheses) {
  for (const char* entry :
       {"allow:Bash(ls", "allow:Bash)", "allow:Bash(ls))", "deny:Bash((ls)", "deny:Bash(a)b)"}) {
    EXPECT_NE(refusal(entry).find("unbalanced parenthesis"), std::string::npos) << entry;
  }
  EXPECT_NE(refusal("allow:Bash(ls) ").find("after the closing parenthesis"), std::string::npos);
}

TEST(PermissionRule, RefusesAnEmptySpecifier) {
  EXPECT_NE(refusal("allow:Bash()").find("empty specifier"), std::string::npos);
  EXPECT_NE(refusal("deny:Read(  )").find("empty specifier"), std::string::npos);
}

TEST(PermissionRule, RefusesToolNamesWithOtherCharacters) {
  for (const char* entry : {"allow:Ba sh", "allow: Bash", "deny:mcp__srv__*", "allow:Read.x(a)",
                            "allow:Bash:*", "deny:Bä"}) {
    EXPECT_NE(refusal(entry).find("tool name"), std::string::npos) << entry;
  }
}

TEST(PermissionRule, NamesTheEntryItRefuses) {
  std::string message = refusal("allow:Bash(git push");
  EXPECT_NE(message.find("'allow:Bash(git push'"), std::string::npos) << message;
  std::string long_entry = "allow:" + std::string(5000, 'x') + "(";
  EXPECT_LT(refusal(long_entry).size(), 400u);
  EXPECT_NE(refusal(std::string("allow:Bash(a\0b)", 15)).find("NUL"), std::string::npos);
}

}  // namespace
}  // namespace ccmesh
