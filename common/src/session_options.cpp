#include "ccmesh/common/session_options.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "ccmesh/common/limits.hpp"
#include "ccmesh/common/permission_rule.hpp"

namespace ccmesh {
namespace {

// The keys of the options map, in the order msgpack_pack writes them.
// clang-format off
constexpr std::array<std::string_view, SessionOptions::kKeyCount> kKeys{
    "system_prompt", "append_system_prompt", "model", "max_turns", "allowed_tools",
    "disallowed_tools", "add_dir", "permission_mode", "cwd", "env", "query_timeout_ms",
    "resume", "max_restarts", "restart_window_ms", "pool", "pool_strategy", "require",
    "start", "idle_timeout_ms", "max_rss_mb", "permission_handler", "permission_rules",
    "permission_timeout_ms", "max_budget_usd", "fallback_model", "effort", "settings",
    "setting_sources", "agents", "json_schema", "mcp_config", "strict_mcp_config",
    "budget_usd", "pool_budget_usd"};
// clang-format on

constexpr std::array<std::string_view, 6> kPermissionModes{
    "default", "acceptEdits", "bypassPermissions", "plan", "dontAsk", "auto"};

// Upper bounds of idle_timeout_ms (30 days) and max_rss_mb (1 PiB).
constexpr uint64_t kMaxIdleTimeoutMs = 30ULL * 24 * 3600 * 1000;
constexpr uint64_t kMaxRssMb = 1ULL << 30;
// Upper bound of permission_timeout_ms (1 day).
constexpr uint64_t kMaxPermissionTimeoutMs = 24ULL * 3600 * 1000;

Error badOption(std::string_view key, std::string_view why) {
  return Error{ErrorCode::kBadRequest, "option " + std::string(key) + ": " + std::string(why)};
}

template <class T>
std::optional<Error> parseNumber(std::string_view key, std::string_view text, T& out) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return badOption(key, "expected a non-negative integer, got '" + std::string(text) + "'");
  }
  out = value;
  return std::nullopt;
}

std::optional<Error> parseDollars(std::string_view key, std::string_view text, double& out) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
      !std::isfinite(value) || value < 0) {
    return badOption(key, "expected a non-negative amount of USD, got '" +
                              std::string(text.substr(0, 64)) + "'");
  }
  out = value;
  return std::nullopt;
}

std::optional<Error> parseBool(std::string_view key, std::string_view text, bool& out) {
  if (text == "true" || text == "1" || text == "yes" || text.empty()) {
    out = true;
  } else if (text == "false" || text == "0" || text == "no") {
    out = false;
  } else {
    return badOption(key, "expected true or false, got '" + std::string(text.substr(0, 64)) + "'");
  }
  return std::nullopt;
}

// A JSON object's text (`path_allowed`: or an absolute path), or why not.
std::optional<Error> checkJsonOrPath(std::string_view key, const std::string& value,
                                     bool path_allowed) {
  if (value.empty()) return std::nullopt;
  if (path_allowed && value.front() == '/') return std::nullopt;
  if (!nlohmann::json::parse(value, nullptr, false).is_object()) {
    return badOption(key, path_allowed ? "expected a JSON object or an absolute path"
                                       : "expected a JSON object");
  }
  return std::nullopt;
}

void appendList(std::string_view text, std::vector<std::string>& out) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
}

template <class T>
void convertField(const msgpack::object& value, std::string_view key, T& out) {
  try {
    value.convert(out);
  } catch (const msgpack::type_error&) {
    throw std::invalid_argument("option " + std::string(key) + ": value has the wrong type");
  }
}

}  // namespace

bool SessionOptions::isKey(std::string_view key) {
  return std::find(kKeys.begin(), kKeys.end(), key) != kKeys.end();
}

void RequestedOptions::msgpack_unpack(const msgpack::object& object) {
  SessionOptions::msgpack_unpack(object);  // checks the map, its keys' and values' types
  for (uint32_t i = 0; i < object.via.map.size; ++i) {
    const auto& key = object.via.map.ptr[i].key;
    const std::string_view name(key.via.str.ptr, key.via.str.size);
    if (isKey(name)) continue;
    // The sessions file and the command line take `idle_timeout`; this map does not.
    const std::string_view hint = name == "idle_timeout" ? " (did you mean idle_timeout_ms?)" : "";
    throw std::invalid_argument("option " + std::string(name.substr(0, 64)) + ": unknown option" +
                                std::string(hint));
  }
}

bool isKnownPermissionMode(std::string_view mode) {
  for (auto known : kPermissionModes) {
    if (known == mode) return true;
  }
  return false;
}

std::optional<Error> SessionOptions::set(std::string_view key, std::string_view value) {
  if (key == "system_prompt") {
    system_prompt = value;
  } else if (key == "append_system_prompt") {
    append_system_prompt = value;
  } else if (key == "model") {
    model = value;
  } else if (key == "max_turns") {
    return parseNumber(key, value, max_turns);
  } else if (key == "allowed_tools") {
    appendList(value, allowed_tools);
  } else if (key == "disallowed_tools") {
    appendList(value, disallowed_tools);
  } else if (key == "add_dir") {
    appendList(value, add_dir);
  } else if (key == "permission_mode") {
    permission_mode = value;
  } else if (key == "cwd") {
    cwd = value;
  } else if (key == "env") {
    auto eq = value.find('=');
    if (eq == std::string_view::npos || eq == 0) return badOption(key, "expected K=V");
    env[std::string(value.substr(0, eq))] = std::string(value.substr(eq + 1));
  } else if (key == "require") {
    std::vector<std::string> pairs;
    appendList(value, pairs);
    for (const auto& pair : pairs) {
      auto eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        return badOption(key, "expected label=value[,label=value...], got '" + pair + "'");
      }
      require[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  } else if (key == "query_timeout_ms") {
    return parseNumber(key, value, query_timeout_ms);
  } else if (key == "resume") {
    resume = value;
  } else if (key == "max_restarts") {
    return parseNumber(key, value, max_restarts);
  } else if (key == "restart_window_ms") {
    return parseNumber(key, value, restart_window_ms);
  } else if (key == "start") {
    start = value;
  } else if (key == "idle_timeout_ms" || key == "idle_timeout") {
    // `idle_timeout` is an alias (the CLI flag is --idle-timeout); milliseconds either way.
    return parseNumber(key, value, idle_timeout_ms);
  } else if (key == "max_rss_mb") {
    return parseNumber(key, value, max_rss_mb);
  } else if (key == "permission_handler") {
    permission_handler = value;
  } else if (key == "permission_rules") {
    appendList(value, permission_rules);
  } else if (key == "permission_timeout_ms") {
    return parseNumber(key, value, permission_timeout_ms);
  } else if (key == "max_budget_usd") {
    return parseDollars(key, value, max_budget_usd);
  } else if (key == "fallback_model") {
    fallback_model = value;
  } else if (key == "effort") {
    effort = value;
  } else if (key == "settings") {
    settings = value;
  } else if (key == "setting_sources") {
    appendList(value, setting_sources);
  } else if (key == "agents") {
    agents = value;
  } else if (key == "json_schema") {
    json_schema = value;
  } else if (key == "mcp_config") {
    mcp_config = value;
  } else if (key == "strict_mcp_config") {
    return parseBool(key, value, strict_mcp_config);
  } else if (key == "budget_usd") {
    return parseDollars(key, value, budget_usd);
  } else if (key == "pool_budget_usd") {
    return parseDollars(key, value, pool_budget_usd);
  } else {
    return badOption(key, "unknown option");
  }
  return std::nullopt;
}

std::optional<Error> SessionOptions::validate() const {
  const std::pair<std::string_view, const std::string*> strings[] = {
      {"system_prompt", &system_prompt},
      {"append_system_prompt", &append_system_prompt},
      {"model", &model},
      {"permission_mode", &permission_mode},
      {"cwd", &cwd},
      {"resume", &resume},
      {"pool", &pool},
      {"pool_strategy", &pool_strategy},
      {"permission_handler", &permission_handler},
      {"fallback_model", &fallback_model},
      {"effort", &effort},
      {"settings", &settings},
      {"agents", &agents},
      {"json_schema", &json_schema},
      {"mcp_config", &mcp_config}};
  for (const auto& [key, value] : strings) {
    if (value->size() > limits::kMaxOptionBytes) return badOption(key, "value too long");
    if (value->find('\0') != std::string::npos) return badOption(key, "contains a NUL byte");
  }
  const std::pair<std::string_view, const std::vector<std::string>*> lists[] = {
      {"allowed_tools", &allowed_tools},
      {"disallowed_tools", &disallowed_tools},
      {"add_dir", &add_dir},
      {"permission_rules", &permission_rules},
      {"setting_sources", &setting_sources}};
  for (const auto& [key, list] : lists) {
    if (list->size() > limits::kMaxOptionListItems) return badOption(key, "too many entries");
    for (const auto& item : *list) {
      if (item.empty() || item.size() > limits::kMaxOptionBytes) {
        return badOption(key, "empty or too long entry");
      }
      if (item.find('\0') != std::string::npos) return badOption(key, "contains a NUL byte");
    }
  }
  if (!permission_mode.empty() && !isKnownPermissionMode(permission_mode)) {
    return badOption("permission_mode",
                     "unknown mode '" + permission_mode +
                         "' (default, acceptEdits, bypassPermissions, plan, dontAsk, auto)");
  }
  if (!cwd.empty() && cwd.front() != '/') return badOption("cwd", "must be an absolute path");
  for (const auto& dir : add_dir) {
    if (dir.front() != '/') return badOption("add_dir", "must be absolute paths");
  }
  if (env.size() > limits::kMaxOptionListItems) return badOption("env", "too many entries");
  for (const auto& [k, v] : env) {
    if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos) {
      return badOption("env", "bad variable name '" + k + "'");
    }
    if (v.size() > limits::kMaxOptionBytes || v.find('\0') != std::string::npos) {
      return badOption("env", "bad value for " + k);
    }
  }
  if (!resume.empty() && resume.front() == '-') return badOption("resume", "bad session id");
  if (start != kStartEager && start != kStartOnDemand) {
    return badOption("start", "expected eager or on_demand, got '" + start.substr(0, 64) + "'");
  }
  // Far beyond any sensible value, and far from overflowing time or byte arithmetic.
  if (idle_timeout_ms > kMaxIdleTimeoutMs) return badOption("idle_timeout_ms", "too large");
  if (max_rss_mb > kMaxRssMb) return badOption("max_rss_mb", "too large");
  if (auto error = validatePermissions()) return error;
  if (auto error = validateAgentOptions()) return error;
  if (require.size() > limits::kMaxOptionListItems) return badOption("require", "too many labels");
  for (const auto& [label, wanted] : require) {
    if (label.empty() || label.size() > limits::kMaxOptionBytes ||
        wanted.size() > limits::kMaxOptionBytes) {
      return badOption("require", "empty or too long label '" + label + "'");
    }
  }
  return std::nullopt;
}

std::optional<Error> SessionOptions::validatePermissions() const {
  const std::string_view handler = permissionHandler();
  if (handler != kHandlerDeny && handler != kHandlerClient && handler != kHandlerPolicy) {
    return badOption("permission_handler", "expected deny, client or policy, got '" +
                                               permission_handler.substr(0, 64) + "'");
  }
  if (!permission_rules.empty() && handler == kHandlerDeny) {
    return badOption("permission_rules", "apply only with permission_handler client or policy");
  }
  for (const auto& entry : permission_rules) {
    if (auto rule = parsePermissionRule(entry); !rule) {
      return badOption("permission_rules", rule.error().message);
    }
  }
  if (permission_timeout_ms > kMaxPermissionTimeoutMs) {
    return badOption("permission_timeout_ms", "too large (at most one day)");
  }
  return std::nullopt;
}

std::optional<Error> SessionOptions::validateAgentOptions() const {
  const std::pair<std::string_view, double> amounts[] = {{"max_budget_usd", max_budget_usd},
                                                         {"budget_usd", budget_usd},
                                                         {"pool_budget_usd", pool_budget_usd}};
  for (const auto& [key, amount] : amounts) {
    if (!std::isfinite(amount) || amount < 0) {
      return badOption(key, "must be a non-negative amount of USD");
    }
  }
  if (!effort.empty() && effort != "low" && effort != "medium" && effort != "high" &&
      effort != "xhigh" && effort != "max") {
    return badOption(
        "effort", "expected low, medium, high, xhigh or max, got '" + effort.substr(0, 64) + "'");
  }
  for (const auto& source : setting_sources) {
    if (source != "user" && source != "project" && source != "local") {
      return badOption("setting_sources",
                       "expected user, project or local, got '" + source.substr(0, 64) + "'");
    }
  }
  if (!fallback_model.empty() && fallback_model.front() == '-') {
    return badOption("fallback_model", "bad model name");
  }
  if (auto error = checkJsonOrPath("settings", settings, true)) return error;
  if (auto error = checkJsonOrPath("mcp_config", mcp_config, true)) return error;
  if (auto error = checkJsonOrPath("agents", agents, false)) return error;
  if (auto error = checkJsonOrPath("json_schema", json_schema, false)) return error;
  return std::nullopt;
}

void SessionOptions::msgpack_unpack(const msgpack::object& object) {
  if (object.type != msgpack::type::MAP) throw std::invalid_argument("options: expected a map");
  for (uint32_t i = 0; i < object.via.map.size; ++i) {
    const auto& kv = object.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) throw std::invalid_argument("options: non-string key");
    std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
    const auto& v = kv.val;
    if (key == "system_prompt")
      convertField(v, key, system_prompt);
    else if (key == "append_system_prompt")
      convertField(v, key, append_system_prompt);
    else if (key == "model")
      convertField(v, key, model);
    else if (key == "max_turns")
      convertField(v, key, max_turns);
    else if (key == "allowed_tools")
      convertField(v, key, allowed_tools);
    else if (key == "disallowed_tools")
      convertField(v, key, disallowed_tools);
    else if (key == "add_dir")
      convertField(v, key, add_dir);
    else if (key == "permission_mode")
      convertField(v, key, permission_mode);
    else if (key == "cwd")
      convertField(v, key, cwd);
    else if (key == "env")
      convertField(v, key, env);
    else if (key == "query_timeout_ms")
      convertField(v, key, query_timeout_ms);
    else if (key == "resume")
      convertField(v, key, resume);
    else if (key == "max_restarts")
      convertField(v, key, max_restarts);
    else if (key == "restart_window_ms")
      convertField(v, key, restart_window_ms);
    else if (key == "start")
      convertField(v, key, start);
    else if (key == "idle_timeout_ms")
      convertField(v, key, idle_timeout_ms);
    else if (key == "max_rss_mb")
      convertField(v, key, max_rss_mb);
    else if (key == "pool")
      convertField(v, key, pool);
    else if (key == "pool_strategy")
      convertField(v, key, pool_strategy);
    else if (key == "require")
      convertField(v, key, require);
    else if (key == "permission_handler")
      convertField(v, key, permission_handler);
    else if (key == "permission_rules")
      convertField(v, key, permission_rules);
    else if (key == "permission_timeout_ms")
      convertField(v, key, permission_timeout_ms);
    else if (key == "max_budget_usd")
      convertField(v, key, max_budget_usd);
    else if (key == "fallback_model")
      convertField(v, key, fallback_model);
    else if (key == "effort")
      convertField(v, key, effort);
    else if (key == "settings")
      convertField(v, key, settings);
    else if (key == "setting_sources")
      convertField(v, key, setting_sources);
    else if (key == "agents")
      convertField(v, key, agents);
    else if (key == "json_schema")
      convertField(v, key, json_schema);
    else if (key == "mcp_config")
      convertField(v, key, mcp_config);
    else if (key == "strict_mcp_config")
      convertField(v, key, strict_mcp_config);
    else if (key == "budget_usd")
      convertField(v, key, budget_usd);
    else if (key == "pool_budget_usd")
      convertField(v, key, pool_budget_usd);
    // Unknown keys are ignored, as everywhere in the protocol.
  }
}

Expected<SessionOptions, Error> SessionOptions::fromObject(const msgpack::object& object) {
  SessionOptions options;
  try {
    options.msgpack_unpack(object);
  } catch (const std::exception& e) {
    return Error{ErrorCode::kBadRequest, e.what()};
  }
  return options;
}

}  // namespace ccmesh
