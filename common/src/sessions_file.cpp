#include "ccmesh/common/sessions_file.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <fstream>
#include <map>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/limits.hpp"
#include "ccmesh/common/pool_strategy.hpp"

namespace po = boost::program_options;

namespace ccmesh {
namespace {

Error bad(std::string message) { return Error{ErrorCode::kBadRequest, std::move(message)}; }

// Room a pool name leaves for "/N" with N < kMaxPoolSize.
constexpr std::size_t kMemberSuffixBytes = 5;

// Splits a `section.NAME.setting` key; false when it has no NAME.
bool splitKey(const std::string& key, std::size_t prefix, std::string& name, std::string& setting) {
  auto dot = key.rfind('.');
  if (dot == std::string::npos || dot <= prefix) return false;
  name = key.substr(prefix, dot - prefix);
  setting = key.substr(dot + 1);
  return true;
}

// Applies one `key = value` line of a [pool.NAME] section.
std::optional<Error> setPoolKey(PoolSpec& spec, const std::string& key, const std::string& value) {
  if (key == "size") {
    uint32_t size = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
      return bad("size: expected a non-negative integer, got '" + value + "'");
    }
    spec.size = size;
    return std::nullopt;
  }
  if (key == "strategy") {
    spec.strategy = value;
    return std::nullopt;
  }
  if (key == "members") {
    std::size_t start = 0;
    while (start <= value.size()) {
      std::size_t comma = std::min(value.find(',', start), value.size());
      if (comma > start) spec.members.push_back(value.substr(start, comma - start));
      start = comma + 1;
    }
    return std::nullopt;
  }
  return spec.options.set(key, value);
}

}  // namespace

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

std::optional<Error> validatePoolName(std::string_view name) {
  if (name.empty() || name.size() > limits::kMaxSessionNameBytes - kMemberSuffixBytes) {
    return bad("pool name must be 1.." +
               std::to_string(limits::kMaxSessionNameBytes - kMemberSuffixBytes) + " bytes");
  }
  if (auto error = validateSessionName(name)) {
    error->message.replace(0, 7, "pool");  // "session name ..." -> "pool name ..."
    return error;
  }
  return std::nullopt;
}

std::string poolMemberName(std::string_view pool, uint32_t index) {
  return std::string(pool) + "/" + std::to_string(index);
}

std::optional<Error> PoolSpec::validate() const {
  if (auto error = validatePoolName(name)) return error;
  if (!parsePoolStrategy(strategy)) {
    return bad("strategy: unknown strategy '" + strategy + "' (round_robin, least_busy, random)");
  }
  if (members.empty() == (size == 0)) {
    return bad("give either size (members to create) or members (existing sessions)");
  }
  if (size > limits::kMaxPoolSize || members.size() > limits::kMaxPoolSize) {
    return bad("a pool has at most " + std::to_string(limits::kMaxPoolSize) + " members");
  }
  for (const auto& member : members) {
    if (auto error = validateSessionName(member)) {
      return bad("members: '" + member + "': " + error->message);
    }
  }
  return options.validate();
}

SessionsFile readSessionsFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw ConfigError("cannot read sessions file " + path);
  po::parsed_options parsed(nullptr);
  try {
    po::options_description none;
    parsed = po::parse_config_file(file, none, /*allow_unregistered=*/true);
  } catch (const po::error& e) {
    throw ConfigError(path + ": " + e.what());
  }
  SessionsFile declared;
  std::map<std::string, size_t> sessions;  // name -> position in declared.sessions
  std::map<std::string, size_t> pools;     // name -> position in declared.pools
  // Every [session.NAME] header declares a session, one without keys too (default options):
  // the parser below sees only keys.
  file.clear();
  file.seekg(0);
  std::string line;
  for (std::size_t number = 1; std::getline(file, line); ++number) {
    const auto first = line.find_first_not_of(" \t");
    const auto last = line.find_last_not_of(" \t\r");
    if (first == std::string::npos || line.compare(first, 9, "[session.") != 0 ||
        line[last] != ']') {
      continue;
    }
    const std::string name = line.substr(first + 9, last - first - 9);
    if (auto error = validateSessionName(name)) {
      throw ConfigError(path + ":" + std::to_string(number) + ": [session." + name +
                        "]: " + error->message);
    }
    if (sessions.try_emplace(name, declared.sessions.size()).second) {
      declared.sessions.push_back(SessionSpec{name, {}});
    }
  }
  for (const auto& option : parsed.options) {
    const std::string& key = option.string_key;  // "session.NAME.option" or "pool.NAME.key"
    const std::string value = option.value.empty() ? "" : option.value.front();
    std::string name;
    std::string setting;
    if (key.rfind("pool.", 0) == 0) {
      if (!splitKey(key, 5, name, setting)) {
        throw ConfigError(path + ": option outside a [pool.NAME] section");
      }
      auto [it, inserted] = pools.try_emplace(name, declared.pools.size());
      if (inserted) declared.pools.push_back(PoolSpec{name, 0, {}, {}, {}});
      if (auto error = setPoolKey(declared.pools[it->second], setting, value)) {
        throw ConfigError(path + ": [pool." + name + "]: " + error->message);
      }
      continue;
    }
    if (key.rfind("session.", 0) != 0) {
      throw ConfigError(path + ": unknown section or key '" + key + "'");
    }
    if (!splitKey(key, 8, name, setting)) {
      throw ConfigError(path + ": option outside a [session.NAME] section");
    }
    if (auto error = validateSessionName(name)) {
      throw ConfigError(path + ": [session." + name + "]: " + error->message);
    }
    auto [it, inserted] = sessions.try_emplace(name, declared.sessions.size());
    if (inserted) declared.sessions.push_back(SessionSpec{name, {}});
    if (auto error = declared.sessions[it->second].options.set(setting, value)) {
      throw ConfigError(path + ": [session." + name + "]: " + error->message);
    }
  }
  for (const auto& spec : declared.sessions) {
    if (auto error = spec.options.validate()) {
      throw ConfigError(path + ": [session." + spec.name + "]: " + error->message);
    }
  }
  for (const auto& spec : declared.pools) {
    if (auto error = spec.validate()) {
      throw ConfigError(path + ": [pool." + spec.name + "]: " + error->message);
    }
  }
  return declared;
}

std::vector<SessionSpec> loadSessionsFile(const std::string& path) {
  return readSessionsFile(path).sessions;
}

}  // namespace ccmesh
