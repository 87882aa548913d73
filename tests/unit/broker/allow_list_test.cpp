// Allow-list files and the role each request type needs.
#include "ccmesh/broker/allow_list.hpp"

#include <gtest/gtest.h>

#include "ccmesh/broker/access_control.hpp"
#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/curve_keys.hpp"

namespace ccmesh::broker {
namespace {

TEST(AllowList, ReadsClientKeysWithRolesNamesAndComments) {
  const auto alice = generateCurveKeyPair().public_key;
  const auto bob = generateCurveKeyPair().public_key;
  const auto list = AllowList::parse(
      "# clients\n\n" + alice + " admin alice  # the operator\n" + "  " + bob + " query\n",
      AllowList::Kind::kClients, "clients.allow");
  ASSERT_EQ(list.size(), 2u);
  ASSERT_NE(list.find(alice), nullptr);
  EXPECT_EQ(list.find(alice)->name, "alice");
  EXPECT_EQ(list.find(alice)->role, ClientRole::kAdmin);
  ASSERT_NE(list.find(bob), nullptr);
  EXPECT_EQ(list.find(bob)->role, ClientRole::kQuery);
  EXPECT_EQ(list.find(bob)->name.substr(0, 4), "key-");
  EXPECT_EQ(list.find(generateCurveKeyPair().public_key), nullptr);
}

TEST(AllowList, KeepsKeysWithAHashInside) {
  // Z85 has '#' in its alphabet: "0000#" is the group 84, so this is a valid 40-character key.
  std::string key;
  for (int i = 0; i < 8; ++i) key += "0000#";
  ASSERT_TRUE(isCurveKey(key));
  const auto list =
      AllowList::parse(key + " w1 # a comment\n", AllowList::Kind::kWorkers, "workers.allow");
  ASSERT_NE(list.find(key), nullptr);
  EXPECT_EQ(list.find(key)->name, "w1");
}

TEST(AllowList, RefusesBadLinesNamingFileAndLine) {
  const auto key = generateCurveKeyPair().public_key;
  auto error_of = [](const std::string& text, AllowList::Kind kind) -> std::string {
    try {
      AllowList::parse(text, kind, "f.allow");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of("tooshort admin x\n", AllowList::Kind::kClients).find("f.allow line 1"),
            std::string::npos);
  EXPECT_NE(error_of("\n" + key + "\n", AllowList::Kind::kClients).find("line 2: missing role"),
            std::string::npos);
  EXPECT_NE(error_of(key + " root x\n", AllowList::Kind::kClients).find("unknown role 'root'"),
            std::string::npos);
  EXPECT_NE(error_of(key + " a b\n", AllowList::Kind::kWorkers).find("too many words"),
            std::string::npos);
  EXPECT_NE(error_of(key + " bad/name\n", AllowList::Kind::kWorkers).find("name"),
            std::string::npos);
  EXPECT_NE(error_of(key + " w1\n" + key + " w2\n", AllowList::Kind::kWorkers).find("twice"),
            std::string::npos);
}

TEST(AccessControl, QueryRoleMayOnlyQueryCancelAndRead) {
  for (auto type :
       {MessageType::kQuery, MessageType::kCancel, MessageType::kInfo, MessageType::kList,
        MessageType::kCount, MessageType::kStatus, MessageType::kPing}) {
    EXPECT_FALSE(requiresAdmin(type)) << messageTypeName(type);
  }
  for (auto type : {MessageType::kStart, MessageType::kTerminate, MessageType::kRestart,
                    MessageType::kPoolCreate, MessageType::kPoolDelete, MessageType::kPoolResize,
                    MessageType::kReady, MessageType::kAssign}) {
    EXPECT_TRUE(requiresAdmin(type)) << messageTypeName(type);
  }
}

}  // namespace
}  // namespace ccmesh::broker
