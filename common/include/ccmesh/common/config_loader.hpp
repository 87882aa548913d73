#pragma once

#include <boost/program_options.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace ccmesh {

// A start-up or configuration error: thrown, caught once in main, printed, exit non-zero.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Loads a program's options from, in order of precedence, the command line, the
// environment (CCMESH_<OPTION> with '-' written '_', e.g. CCMESH_HEARTBEAT_MS) and the INI
// file named by --config (keys are the long option names). Adds --help, --version,
// --config and --log-level to every program.
class ConfigLoader {
 public:
  ConfigLoader(std::string program, std::string synopsis);

  // The program's own options; add to it before load().
  boost::program_options::options_description& options() { return options_; }

  // Parses everything. Returns false if --help or --version was printed (exit 0). Throws
  // ConfigError with a message naming the bad option or file.
  bool load(int argc, const char* const* argv, boost::program_options::variables_map& vm);

  // The environment variable that sets a long option: heartbeat-ms -> CCMESH_HEARTBEAT_MS.
  static std::string environmentName(const std::string& option);

 private:
  std::string program_;   // program name, for --help and --version
  std::string synopsis_;  // usage line(s) printed above the option list
  boost::program_options::options_description options_;  // program-specific options
};

}  // namespace ccmesh
