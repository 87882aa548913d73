// The HTTP token file: roles and names per token, bare tokens, the errors that name a line.
#include "ccmesh/monitoring/http_tokens.hpp"

#include <gtest/gtest.h>

#include "ccmesh/common/config_loader.hpp"

namespace ccmesh::monitoring {
namespace {

TEST(HttpTokensTest, ReadsRolesAndNamesAndFindsTheBearer) {
  const auto tokens = HttpTokens::parse(
      "# tokens\n"
      "admin-token-123 admin ops   # the operators\n"
      "\n"
      "query-token-456 query webapp\n"
      "bare-token-789\n",
      "tokens");
  ASSERT_EQ(tokens.size(), 3u);
  const HttpCaller* ops = tokens.find("Bearer admin-token-123");
  ASSERT_NE(ops, nullptr);
  EXPECT_EQ(ops->role, ClientRole::kAdmin);
  EXPECT_EQ(ops->name, "ops");
  const HttpCaller* webapp = tokens.find("Bearer query-token-456");
  ASSERT_NE(webapp, nullptr);
  EXPECT_EQ(webapp->role, ClientRole::kQuery);
  EXPECT_EQ(webapp->name, "webapp");
  const HttpCaller* bare = tokens.find("Bearer bare-token-789");
  ASSERT_NE(bare, nullptr);
  EXPECT_EQ(bare->role, ClientRole::kAdmin);
  EXPECT_EQ(bare->name, "token-5");
}

TEST(HttpTokensTest, RefusesWhatIsNotABearerOfAListedToken) {
  const auto tokens = HttpTokens::parse("admin-token-123 admin\n", "tokens");
  EXPECT_EQ(tokens.find("admin-token-123"), nullptr);
  EXPECT_EQ(tokens.find("Basic admin-token-123"), nullptr);
  EXPECT_EQ(tokens.find("Bearer admin-token-12"), nullptr);
  EXPECT_EQ(tokens.find("Bearer admin-token-1234"), nullptr);
  EXPECT_EQ(tokens.find(""), nullptr);
}

TEST(HttpTokensTest, ErrorsNameTheLineAtFault) {
  auto error = [](std::string_view text) {
    try {
      HttpTokens::parse(text, "tokens");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("short\n").find("line 1"), std::string::npos);
  EXPECT_NE(error("good-token-123 admin\nother-token-456 root\n").find("line 2: unknown role"),
            std::string::npos);
  EXPECT_NE(error("good-token-123 admin a b\n").find("too many words"), std::string::npos);
  EXPECT_NE(error("good-token-123 admin\ngood-token-123 query\n").find("listed twice"),
            std::string::npos);
  EXPECT_NE(error("good-token-123 admin bad/name\n").find("name"), std::string::npos);
  EXPECT_NE(error("# nothing\n").find("holds no token"), std::string::npos);
}

}  // namespace
}  // namespace ccmesh::monitoring
