// CURVE key files: generation, reading, permissions and the public key derived from a secret.
#include "ccmesh/common/curve_keys.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "ccmesh/common/config_loader.hpp"

namespace ccmesh {
namespace {

class CurveKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ccmesh-keys-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;  // fresh per test
};

TEST_F(CurveKeysTest, WritesAPairThatReadsBackWithAPrivateSecret) {
  ASSERT_TRUE(curveAvailable());
  const auto pair = generateCurveKeyPair();
  EXPECT_TRUE(isCurveKey(pair.public_key));
  EXPECT_TRUE(isCurveKey(pair.secret_key));
  writeCurveKeyFiles(path("alice"), pair, "alice");
  struct stat info {};
  ASSERT_EQ(::stat(path("alice.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(readCurveKeyFile(path("alice.key"), true), pair.secret_key);
  EXPECT_EQ(readCurveKeyFile(path("alice.pub")), pair.public_key);
  EXPECT_EQ(curvePublicKeyOf(pair.secret_key), pair.public_key);
  // Never overwrites.
  EXPECT_THROW(writeCurveKeyFiles(path("alice"), generateCurveKeyPair(), "alice"), ConfigError);
  EXPECT_EQ(readCurveKeyFile(path("alice.key"), true), pair.secret_key);
}

TEST_F(CurveKeysTest, LoadsClientKeysDerivingTheOwnPublicKey) {
  const auto broker = generateCurveKeyPair();
  const auto own = generateCurveKeyPair();
  writeCurveKeyFiles(path("broker"), broker, "broker");
  writeCurveKeyFiles(path("w1"), own, "w1");
  const auto keys = loadCurveClientKeys(path("broker.pub"), path("w1.key"));
  EXPECT_EQ(keys.server_public, broker.public_key);
  EXPECT_EQ(keys.own.public_key, own.public_key);
  EXPECT_EQ(keys.own.secret_key, own.secret_key);
  EXPECT_THROW(loadCurveClientKeys(path("broker.pub"), ""), ConfigError);
}

TEST_F(CurveKeysTest, RefusesMissingMalformedAndReadableFiles) {
  EXPECT_THROW(readCurveKeyFile(path("missing.key")), ConfigError);
  std::ofstream(path("bad.key")) << "# comment\nnot-a-key\n";
  EXPECT_THROW(readCurveKeyFile(path("bad.key")), ConfigError);
  std::ofstream(path("empty.key")) << "# only a comment\n\n";
  EXPECT_THROW(readCurveKeyFile(path("empty.key")), ConfigError);
  const auto pair = generateCurveKeyPair();
  std::ofstream(path("open.key")) << pair.secret_key << "\n";
  ::chmod(path("open.key").c_str(), 0644);
  EXPECT_EQ(readCurveKeyFile(path("open.key")), pair.secret_key);
  try {
    readCurveKeyFile(path("open.key"), true);
    ADD_FAILURE() << "a world-readable secret was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos);
  }
}

}  // namespace
}  // namespace ccmesh
