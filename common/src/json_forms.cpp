#include "ccmesh/common/json_forms.hpp"

#include <ctime>

namespace ccmesh {

std::string jsonText(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string isoTime(uint64_t unix_ms) {
  if (unix_ms == 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  ::gmtime_r(&secs, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

void to_json(Json& json, const SessionOptions& options) {
  json = Json{
      {"system_prompt", options.system_prompt},
      {"append_system_prompt", options.append_system_prompt},
      {"model", options.model},
      {"max_turns", options.max_turns},
      {"allowed_tools", options.allowed_tools},
      {"disallowed_tools", options.disallowed_tools},
      {"add_dir", options.add_dir},
      {"permission_mode", options.permission_mode},
      {"cwd", options.cwd},
      {"env", options.env},
      {"query_timeout_ms", options.query_timeout_ms},
      {"resume", options.resume},
      {"max_restarts", options.max_restarts},
      {"restart_window_ms", options.restart_window_ms},
      {"pool", options.pool},
      {"pool_strategy", options.pool_strategy},
      {"require", options.require},
      {"start", options.start},
      {"idle_timeout_ms", options.idle_timeout_ms},
      {"max_rss_mb", options.max_rss_mb},
      {"permission_handler", options.permission_handler},
      {"permission_rules", options.permission_rules},
      {"permission_timeout_ms", options.permission_timeout_ms},
      {"max_budget_usd", options.max_budget_usd},
      {"fallback_model", options.fallback_model},
      {"effort", options.effort},
      {"settings", options.settings},
      {"setting_sources", options.setting_sources},
      {"agents", options.agents},
      {"json_schema", options.json_schema},
      {"mcp_config", options.mcp_config},
      {"strict_mcp_config", options.strict_mcp_config},
      {"budget_usd", options.budget_usd},
      {"pool_budget_usd", options.pool_budget_usd},
  };
}

Expected<SessionOptions, Error> sessionOptionsFromJson(const Json& object) {
  if (!object.is_object()) return Error{ErrorCode::kBadRequest, "options must be a JSON object"};
  SessionOptions options;
  auto wrong = [](const std::string& key, const char* what) {
    return Error{ErrorCode::kBadRequest, "option '" + key + "' must be " + what};
  };
  for (const auto& [key, value] : object.items()) {
    std::optional<Error> failed;
    if (value.is_string()) {
      failed = options.set(key, value.get<std::string>());
    } else if (value.is_number_unsigned()) {
      failed = options.set(key, std::to_string(value.get<uint64_t>()));
    } else if (value.is_number_float()) {
      failed = options.set(key, value.dump());
    } else if (value.is_boolean() && key == "strict_mcp_config") {
      failed = options.set(key, value.get<bool>() ? "true" : "false");
    } else if (value.is_object() && SessionOptions::isJsonText(key)) {
      failed = options.set(key, value.dump());
    } else if (value.is_array()) {
      for (const auto& item : value) {
        if (!item.is_string()) return wrong(key, "an array of strings");
        if ((failed = options.set(key, item.get<std::string>()))) break;
      }
    } else if (value.is_object()) {
      for (const auto& [name, item] : value.items()) {
        if (!item.is_string()) return wrong(key, "an object of strings");
        if ((failed = options.set(key, name + "=" + item.get<std::string>()))) break;
      }
    } else {
      return wrong(key, "a string, a non-negative number, a boolean, an array or an object");
    }
    if (failed) return Error{ErrorCode::kBadRequest, failed->message};
  }
  if (auto invalid = options.validate()) return Error{ErrorCode::kBadRequest, invalid->message};
  return options;
}

void to_json(Json& json, const Usage& usage) {
  json = Json{{"cost_usd", usage.cost_usd},
              {"input_tokens", usage.input_tokens},
              {"output_tokens", usage.output_tokens},
              {"turns", usage.turns},
              {"counted_from_usd", usage.counted_from_usd}};
}

namespace msg {

void to_json(Json& json, const QueryResult& result) {
  json = Json{
      {"session", result.session},           {"text", result.text},
      {"session_id", result.session_id},     {"worker", result.worker},
      {"duration_ms", result.duration_ms},   {"cost_usd", result.cost_usd},
      {"input_tokens", result.input_tokens}, {"output_tokens", result.output_tokens},
  };
  if (!result.pool.empty()) json["pool"] = result.pool;  // pool query: `session` is its member
  // json_schema: the structured value itself, not its text.
  if (!result.structured.empty()) {
    Json value = Json::parse(result.structured, nullptr, false);
    if (!value.is_discarded()) json["structured"] = std::move(value);
  }
}

void to_json(Json& json, const Ack& ack) {
  json = Json{{"session", ack.session},
              {"worker", ack.worker},
              {"generation", ack.generation},
              {"state", ack.state}};
}

void to_json(Json& json, const SessionInfo& info) {
  json = Json{
      {"name", info.name},
      {"worker", info.worker},
      {"generation", info.generation},
      {"state", info.state},
      {"pid", info.pid},
      {"session_id", info.session_id},
      {"restarts", info.restarts},
      {"queue_depth", info.queue_depth},
      {"turns", info.turns},
      {"last_error", info.last_error},
      {"last_used_ms", info.last_used_ms},
      {"rss_kb", info.rss_kb},
      {"recycles", info.recycles},
      {"transcript_bytes", info.transcript_bytes},
      {"transcript_entries", info.transcript_entries},
      {"transcript_last_ms", info.transcript_last_ms},
      {"transcript_complete", info.transcript_complete},
      {"cut", info.cut},
      {"cost_usd", info.cost_usd},
      {"usage", info.usage},
      {"config", info.config},
      {"creator", info.creator},
  };
}

void to_json(Json& json, const CountResult& count) {
  json = Json{{"count", count.count}, {"states", count.states}};
}

void to_json(Json& json, const WorkerInfo& worker) {
  json = Json{{"id", worker.id},
              {"capacity", worker.capacity},
              {"sessions", worker.sessions},
              {"labels", worker.labels},
              {"heartbeat_age_ms", worker.heartbeat_age_ms},
              {"max_live", worker.max_live},
              {"live", worker.live},
              {"hibernated", worker.hibernated},
              {"usage", worker.usage}};
}

void to_json(Json& json, const HaMember& member) {
  json = Json{{"name", member.name}, {"frontend", member.frontend}, {"leader", member.leader}};
}

void to_json(Json& json, const HaStatus& ha) {
  json = Json{{"role", ha.role},
              {"name", ha.name},
              {"term", ha.term},
              {"cluster", ha.cluster},
              {"members", ha.members}};
}

void to_json(Json& json, const StatusResult& status) {
  json = Json{
      {"version", status.version},
      {"uptime_ms", status.uptime_ms},
      {"workers", status.workers},
      {"sessions", status.sessions},
      {"pending_sessions", status.pending_sessions},
      {"requests_in_flight", status.requests_in_flight},
      {"malformed_messages", status.malformed_messages},
      {"stale_messages", status.stale_messages},
      {"workers_lost", status.workers_lost},
      {"curve", status.curve},
      {"insecure", status.insecure},
      {"refused_handshakes", status.refused_handshakes},
      {"unauthorized", status.unauthorized},
      {"refused_worker_ids", status.refused_worker_ids},
      {"reloads", status.reloads},
      {"failed_reloads", status.failed_reloads},
      {"transcript_bytes", status.transcript_bytes},
      {"transcript_dropped_entries", status.transcript_dropped_entries},
      {"transcript_evictions", status.transcript_evictions},
      {"transcript_rejected", status.transcript_rejected},
      {"transcript_write_errors", status.transcript_write_errors},
      {"transcript_duplicates", status.transcript_duplicates},
      {"transcript_gaps", status.transcript_gaps},
      {"transcript_damaged_files", status.transcript_damaged_files},
      {"usage", status.usage},
      {"budget_exhausted", status.budget_exhausted},
      {"ha", status.ha},
  };
}

void to_json(Json& json, const PingResult& ping) {
  json = Json{{"version", ping.version}, {"uptime_ms", ping.uptime_ms}};
}

void to_json(Json& json, const PoolMemberInfo& member) {
  json = Json{{"name", member.name},
              {"state", member.state},
              {"worker", member.worker},
              {"turns", member.turns},
              {"served", member.served},
              {"queue_depth", member.queue_depth},
              {"checked_out", member.checked_out},
              {"lease_id", member.lease_id},
              {"lease_left_ms", member.lease_left_ms}};
}

void to_json(Json& json, const PoolInfo& pool) {
  json = Json{{"name", pool.name},
              {"strategy", pool.strategy},
              {"owned", pool.owned},
              {"size", pool.size},
              {"members", pool.members},
              {"checked_out", pool.checked_out},
              {"waiting_checkouts", pool.waiting_checkouts},
              {"reclaims", pool.reclaims},
              {"exhausted", pool.exhausted},
              {"usage", pool.usage},
              {"budget_usd", pool.budget_usd},
              {"spent_usd", pool.spent_usd}};
}

void to_json(Json& json, const CheckoutResult& checkout) {
  json = Json{{"pool", checkout.pool},
              {"member", checkout.member},
              {"worker", checkout.worker},
              {"lease_id", checkout.lease_id},
              {"lease_ms", checkout.lease_ms}};
}

void to_json(Json& json, const CheckinResult& checkin) {
  json = Json{{"pool", checkin.pool}, {"member", checkin.member}};
}

void to_json(Json& json, const UsageRow& row) {
  json = Json{{"name", row.name},
              {"usage", row.usage},
              {"sessions", row.sessions},
              {"budget_usd", row.budget_usd},
              {"spent_usd", row.spent_usd}};
}

void to_json(Json& json, const UsageResult& usage) {
  json = Json{{"by", usage.by},
              {"rows", usage.rows},
              {"total", usage.total},
              {"uptime_ms", usage.uptime_ms}};
}

void to_json(Json& json, const BudgetResult& budget) {
  json = Json{{"name", budget.name},
              {"kind", budget.kind},
              {"budget_usd", budget.budget_usd},
              {"spent_usd", budget.spent_usd},
              {"left_usd", budget.left_usd},
              {"exhausted", budget.exhausted}};
}

void to_json(Json& json, const FeedEvent& event) {
  // Built in place with room reserved: every event a /events stream carries comes through
  // here, and braced lists and a growing object cost nlohmann more than the text itself.
  json = Json(Json::value_t::object);
  auto& members = json.get_ref<Json::object_t&>();
  members.reserve(5 + event.fields.size());
  members.emplace_back("seq", event.seq);
  members.emplace_back("time", isoTime(event.time_ms));
  members.emplace_back("time_ms", event.time_ms);
  members.emplace_back("type", event.kind);
  members.emplace_back("text", event.text);
  for (const auto& [key, value] : event.fields) {
    const bool fixed =
        key == "seq" || key == "time" || key == "time_ms" || key == "type" || key == "text";
    if (!fixed) members.emplace_back(key, value);  // a field never replaces those above
  }
}

}  // namespace msg

}  // namespace ccmesh
