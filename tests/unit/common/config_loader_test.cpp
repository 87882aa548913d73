#include "ccmesh/common/config_loader.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace po = boost::program_options;

namespace ccmesh {
namespace {

struct Loaded {
  bool proceed = false;
  po::variables_map vm;
};

Loaded load(std::vector<const char*> argv) {
  ConfigLoader loader("prog", "usage: prog");
  loader.options().add_options()("heartbeat-ms", po::value<int>()->default_value(1000), "hb")(
      "broker", po::value<std::string>()->default_value("tcp://x:1"), "broker");
  Loaded loaded;
  argv.insert(argv.begin(), "prog");
  loaded.proceed = loader.load(static_cast<int>(argv.size()), argv.data(), loaded.vm);
  return loaded;
}

TEST(ConfigLoader, CommandLineBeatsEnvironmentBeatsFile) {
  char name[] = "/tmp/ccmesh-config-XXXXXX";
  ::close(mkstemp(name));
  std::ofstream(name) << "heartbeat-ms = 300\nbroker = tcp://file:1\n";

  auto from_file = load({"--config", name});
  EXPECT_EQ(from_file.vm["heartbeat-ms"].as<int>(), 300);

  setenv("CCMESH_HEARTBEAT_MS", "200", 1);
  auto from_env = load({"--config", name});
  EXPECT_EQ(from_env.vm["heartbeat-ms"].as<int>(), 200);
  EXPECT_EQ(from_env.vm["broker"].as<std::string>(), "tcp://file:1");

  auto from_cli = load({"--config", name, "--heartbeat-ms", "100"});
  EXPECT_EQ(from_cli.vm["heartbeat-ms"].as<int>(), 100);
  unsetenv("CCMESH_HEARTBEAT_MS");
  std::remove(name);
}

TEST(ConfigLoader, DefaultsApplyAndErrorsNameTheOption) {
  auto defaults = load({});
  EXPECT_TRUE(defaults.proceed);
  EXPECT_EQ(defaults.vm["heartbeat-ms"].as<int>(), 1000);
  try {
    load({"--heartbeat-ms", "fast"});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("heartbeat-ms"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load({"--no-such-option"}), ConfigError);
  EXPECT_THROW(load({"--config", "/nonexistent.conf"}), ConfigError);
  EXPECT_EQ(ConfigLoader::environmentName("heartbeat-ms"), "CCMESH_HEARTBEAT_MS");
}

}  // namespace
}  // namespace ccmesh
