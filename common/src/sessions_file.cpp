#include "ccmesh/common/sessions_file.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <map>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/limits.hpp"

namespace po = boost::program_options;

namespace ccmesh {

std::optional<Error> validateSessionName(std::string_view name) {
  if (name.empty() || name.size() > limits::kMaxSessionNameBytes) {
    return Error{ErrorCode::kBadRequest, "session name must be 1..128 bytes"};
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '@' || c == '/' || c == '-';
    if (!ok) {
      return Error{ErrorCode::kBadRequest,
                   "session name may hold only letters, digits and . _ : @ / -"};
    }
  }
  if (name.front() == '-' || name.front() == '/') {
    return Error{ErrorCode::kBadRequest, "session name must not start with '-' or '/'"};
  }
  return std::nullopt;
}

std::vector<SessionSpec> loadSessionsFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw ConfigError("cannot read sessions file " + path);
  po::parsed_options parsed(nullptr);
  try {
    po::options_description none;
    parsed = po::parse_config_file(file, none, /*allow_unregistered=*/true);
  } catch (const po::error& e) {
    throw ConfigError(path + ": " + e.what());
  }
  std::vector<SessionSpec> specs;
  std::map<std::string, size_t> index;  // name -> position in specs, keeps file order
  for (const auto& option : parsed.options) {
    const std::string& key = option.string_key;  // "session.NAME.option"
    if (key.rfind("session.", 0) != 0) {
      throw ConfigError(path + ": unknown section or key '" + key + "'");
    }
    auto dot = key.rfind('.');
    if (dot <= 8) throw ConfigError(path + ": option outside a [session.NAME] section");
    std::string name = key.substr(8, dot - 8);
    std::string setting = key.substr(dot + 1);
    if (auto bad = validateSessionName(name)) {
      throw ConfigError(path + ": [session." + name + "]: " + bad->message);
    }
    auto [it, inserted] = index.try_emplace(name, specs.size());
    if (inserted) specs.push_back(SessionSpec{name, {}});
    auto& spec = specs[it->second];
    std::string value = option.value.empty() ? "" : option.value.front();
    if (auto bad = spec.options.set(setting, value)) {
      throw ConfigError(path + ": [session." + name + "]: " + bad->message);
    }
  }
  for (const auto& spec : specs) {
    if (auto bad = spec.options.validate()) {
      throw ConfigError(path + ": [session." + spec.name + "]: " + bad->message);
    }
  }
  return specs;
}

}  // namespace ccmesh
