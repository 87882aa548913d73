// What session options a worker lets widen the agent's reach.
#include "ccmesh/worker/option_policy.hpp"

#include <gtest/gtest.h>

namespace ccmesh::worker {
namespace {

std::optional<Error> check(const OptionPolicy& policy, void (*edit)(SessionOptions&)) {
  SessionOptions options;
  edit(options);
  return policy.check(options);
}

TEST(OptionPolicy, RefusesWideningOptionsByDefaultNamingThem) {
  const OptionPolicy policy({}, {"/srv/work"}, {});
  auto bypass = check(policy, [](SessionOptions& o) { o.permission_mode = "bypassPermissions"; });
  ASSERT_TRUE(bypass);
  EXPECT_EQ(bypass->code, ErrorCode::kUnauthorized);
  EXPECT_NE(bypass->message.find("permission_mode"), std::string::npos);
  EXPECT_NE(bypass->message.find("--allow-permission-modes"), std::string::npos);
  auto dir = check(policy, [](SessionOptions& o) { o.add_dir = {"/srv/work/a", "/etc"}; });
  ASSERT_TRUE(dir);
  EXPECT_NE(dir->message.find("add_dir: /etc"), std::string::npos);
  auto cwd = check(policy, [](SessionOptions& o) { o.cwd = "/srv/workshop"; });
  ASSERT_TRUE(cwd);
  EXPECT_NE(cwd->message.find("cwd"), std::string::npos);
  auto escape = check(policy, [](SessionOptions& o) { o.cwd = "/srv/work/../../etc"; });
  EXPECT_TRUE(escape);
  for (const char* name : {"ANTHROPIC_BASE_URL", "CLAUDE_CONFIG_DIR", "HOME", "PATH", "LD_PRELOAD",
                           "NODE_OPTIONS", "https_proxy"}) {
    SessionOptions options;
    options.env[name] = "x";
    auto env = policy.check(options);
    ASSERT_TRUE(env) << name;
    EXPECT_NE(env->message.find(name), std::string::npos);
  }
}

TEST(OptionPolicy, AcceptsHarmlessOptions) {
  const OptionPolicy policy({}, {"/srv/work"}, {});
  SessionOptions options;
  options.permission_mode = "plan";
  options.cwd = "/srv/work/project";
  options.add_dir = {"/srv/work"};
  options.env = {{"MY_FLAG", "1"}, {"LANG", "C"}};
  EXPECT_FALSE(policy.check(options));
  options.permission_mode = "default";
  EXPECT_FALSE(policy.check(options));
}

TEST(OptionPolicy, AcceptsWhatTheWorkerAllows) {
  const OptionPolicy policy({"bypassPermissions"}, {"/"}, {"ANTHROPIC_*", "HOME"});
  SessionOptions options;
  options.permission_mode = "bypassPermissions";
  options.cwd = "/etc";
  options.add_dir = {"/usr", "/"};
  options.env = {{"ANTHROPIC_BASE_URL", "http://127.0.0.1:1"}, {"HOME", "/tmp/h"}};
  EXPECT_FALSE(policy.check(options));
  options.permission_mode = "acceptEdits";
  EXPECT_TRUE(policy.check(options));
}

}  // namespace
}  // namespace ccmesh::worker
