#include "ccmesh/common/sessions_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "ccmesh/common/config_loader.hpp"

namespace ccmesh {
namespace {

// A file in the temp dir holding `text`, removed at the end of the test.
class TextFile {
 public:
  explicit TextFile(const std::string& text) {
    char name[] = "/tmp/ccmesh-sessions-XXXXXX";
    int fd = mkstemp(name);
    path_ = name;
    ::close(fd);
    std::ofstream(path_) << text;
  }
  ~TextFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(SessionsFile, ReadsSessionsInFileOrder) {
  TextFile file(
      "[session.reviewer]\nsystem_prompt = You review code\nmax_turns = 4\n"
      "[session.support.eu]\nmodel = m\nallowed_tools = Read,Grep\n");
  auto specs = loadSessionsFile(file.path());
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].name, "reviewer");
  EXPECT_EQ(specs[0].options.system_prompt, "You review code");
  EXPECT_EQ(specs[0].options.max_turns, 4u);
  EXPECT_EQ(specs[1].name, "support.eu");
  EXPECT_EQ(specs[1].options.allowed_tools.size(), 2u);
}

TEST(SessionsFile, ASectionWithoutKeysDeclaresASessionWithDefaultOptions) {
  TextFile file("[session.plain]\n\n[session.tuned]\nmax_turns = 2\n  [session.last]  \n");
  auto specs = loadSessionsFile(file.path());
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].name, "plain");
  EXPECT_EQ(specs[0].options.max_turns, SessionOptions{}.max_turns);
  EXPECT_EQ(specs[1].name, "tuned");
  EXPECT_EQ(specs[1].options.max_turns, 2u);
  EXPECT_EQ(specs[2].name, "last");
  TextFile bad("[session.ok]\n[session.no space]\n");
  try {
    loadSessionsFile(bad.path());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(":2: [session.no space]"), std::string::npos) << e.what();
  }
}

TEST(SessionsFile, RefusesBadOptionsNamingSectionAndOption) {
  TextFile file("[session.a]\npermission_mode = sometimes\n");
  try {
    loadSessionsFile(file.path());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("session.a"), std::string::npos) << message;
    EXPECT_NE(message.find("permission_mode"), std::string::npos) << message;
  }
  TextFile other("[worker.x]\ncapacity = 3\n");
  EXPECT_THROW(loadSessionsFile(other.path()), ConfigError);
  EXPECT_THROW(loadSessionsFile("/nonexistent/sessions.conf"), ConfigError);
}

TEST(SessionsFile, ReadsPoolsBesideSessions) {
  TextFile file(
      "[session.solo]\nmodel = m\n"
      "[pool.helpers]\nsize = 4\nstrategy = least_busy\nsystem_prompt = Be brief\n"
      "[pool.team.eu]\nmembers = solo,other\n");
  auto declared = readSessionsFile(file.path());
  ASSERT_EQ(declared.sessions.size(), 1u);
  ASSERT_EQ(declared.pools.size(), 2u);
  EXPECT_EQ(declared.pools[0].name, "helpers");
  EXPECT_EQ(declared.pools[0].size, 4u);
  EXPECT_EQ(declared.pools[0].strategy, "least_busy");
  EXPECT_EQ(declared.pools[0].options.system_prompt, "Be brief");
  EXPECT_EQ(declared.pools[1].name, "team.eu");
  EXPECT_EQ(declared.pools[1].members, (std::vector<std::string>{"solo", "other"}));
  EXPECT_EQ(loadSessionsFile(file.path()).size(), 1u) << "the sessions-only API still works";
}

TEST(SessionsFile, RefusesBadPoolsNamingTheSection) {
  for (const char* text : {"[pool.p]\nstrategy = fastest\nsize = 2\n", "[pool.p]\nsize = x\n",
                           "[pool.p]\nstrategy = random\n", "[pool.p]\nsize = 2\nmembers = a\n",
                           "[pool.p]\nsize = 2\npermission_mode = yolo\n"}) {
    TextFile file(text);
    try {
      readSessionsFile(file.path());
      ADD_FAILURE() << "expected a ConfigError for " << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("pool.p"), std::string::npos) << e.what();
    }
  }
}

TEST(PoolSpec, NamesMembersAndBoundsTheirNames) {
  EXPECT_EQ(poolMemberName("helpers", 3), "helpers/3");
  EXPECT_FALSE(validatePoolName("helpers"));
  EXPECT_TRUE(validatePoolName(std::string(124, 'a'))) << "NAME/1023 must fit in 128 bytes";
  EXPECT_FALSE(validatePoolName(std::string(123, 'a')));
  EXPECT_TRUE(validatePoolName("-x"));
  EXPECT_TRUE((PoolSpec{"p", 2000, "", {}, {}}.validate())) << "too many members";
  EXPECT_FALSE((PoolSpec{"p", 2, "", {}, {}}.validate()));
}

TEST(SessionName, AcceptsPoolMembersAndRefusesOddNames) {
  EXPECT_FALSE(validateSessionName("pool/3"));
  EXPECT_FALSE(validateSessionName("user@example.com"));
  EXPECT_TRUE(validateSessionName(""));
  EXPECT_TRUE(validateSessionName("-x"));
  EXPECT_TRUE(validateSessionName("a b"));
  EXPECT_TRUE(validateSessionName(std::string(129, 'a')));
}

}  // namespace
}  // namespace ccmesh
