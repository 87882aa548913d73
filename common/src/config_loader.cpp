#include "ccmesh/common/config_loader.hpp"

#include <cctype>
#include <fstream>
#include <iostream>

#include "ccmesh/common/version.hpp"

namespace po = boost::program_options;

namespace ccmesh {

ConfigLoader::ConfigLoader(std::string program, std::string synopsis)
    : program_(std::move(program)), synopsis_(std::move(synopsis)), options_("Options") {}

std::string ConfigLoader::environmentName(const std::string& option) {
  std::string name = "CCMESH_";
  for (char c : option) name += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

bool ConfigLoader::load(int argc, const char* const* argv, po::variables_map& vm) {
  po::options_description generic("General");
  generic.add_options()("help,h", "print this help and exit")("version",
                                                              "print the version and exit")(
      "config", po::value<std::string>()->value_name("FILE"),
      "INI file with any of these options (key = long option name)")(
      "log-level", po::value<std::string>()->default_value("info")->value_name("L"),
      "trace, debug, info, warn, error, critical or off");
  po::options_description all;
  all.add(generic).add(options_);

  try {
    po::store(po::command_line_parser(argc, argv).options(all).run(), vm);
    po::store(po::parse_environment(all,
                                    [&all](const std::string& variable) -> std::string {
                                      if (variable.rfind("CCMESH_", 0) != 0) return "";
                                      for (const auto& option : all.options()) {
                                        const auto& name = option->long_name();
                                        if (environmentName(name) == variable) return name;
                                      }
                                      return "";
                                    }),
              vm);
    if (vm.count("help")) {
      std::cout << synopsis_ << "\n\n"
                << all << "\nEvery option can also be set as "
                << "CCMESH_<OPTION> in the environment or as `option = value` in --config.\n";
      return false;
    }
    if (vm.count("version")) {
      std::cout << program_ << " " << kVersion << "\n";
      return false;
    }
    if (vm.count("config")) {
      const auto path = vm["config"].as<std::string>();
      std::ifstream file(path);
      if (!file) throw ConfigError("cannot read config file " + path);
      po::store(po::parse_config_file(file, all), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(std::string(e.what()) + " (see " + program_ + " --help)");
  }
  return true;
}

}  // namespace ccmesh
