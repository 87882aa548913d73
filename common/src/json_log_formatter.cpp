#include "ccmesh/common/json_log_formatter.hpp"

#include <cctype>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string_view>

#include "ccmesh/common/json_forms.hpp"

namespace ccmesh {
namespace {

// The tags a message may start with, and the field each becomes.
constexpr std::string_view kTags[] = {"session", "worker", "pool", "client"};

// Moves leading `[tag NAME] ` tags of `message` into `fields`.
void liftTags(std::string_view& message, Json& fields) {
  while (message.size() > 2 && message.front() == '[') {
    bool lifted = false;
    for (const std::string_view tag : kTags) {
      if (message.substr(1, tag.size()) != tag || message.size() <= tag.size() + 2 ||
          message[tag.size() + 1] != ' ') {
        continue;
      }
      const std::size_t close = message.find(']', tag.size() + 2);
      if (close == std::string_view::npos) return;
      fields[std::string(tag)] =
          std::string(message.substr(tag.size() + 2, close - tag.size() - 2));
      message.remove_prefix(close + 1);
      while (!message.empty() && message.front() == ' ') message.remove_prefix(1);
      lifted = true;
      break;
    }
    if (!lifted) return;
  }
}

// The request id the message mentions, if any.
void liftRequest(std::string_view message, Json& fields) {
  for (const std::string_view marker : {"query ", "request id ", "request ", "(id "}) {
    std::size_t at = 0;
    while ((at = message.find(marker, at)) != std::string_view::npos) {
      const bool control = marker == "request " && at >= 8 &&
                           message.substr(at - 8, 8) == "control ";  // a CLI control request
      std::size_t end = at + marker.size();
      uint64_t id = 0;
      bool digits = false;
      while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) {
        id = id * 10 + static_cast<uint64_t>(message[end] - '0');
        digits = true;
        ++end;
      }
      const bool whole =
          end == message.size() || !std::isalnum(static_cast<unsigned char>(message[end]));
      if (digits && whole && !control) {
        fields["request"] = id;
        return;
      }
      at += marker.size();
    }
  }
}

std::string utcTime(std::chrono::system_clock::time_point at) {
  const auto since = at.time_since_epoch();
  const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since).count();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[40];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(n), text, static_cast<int>(millis));
  return out;
}

}  // namespace

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  std::string_view message(msg.payload.data(), msg.payload.size());
  Json tags = Json::object();
  liftTags(message, tags);
  liftRequest(message, tags);
  Json line;
  line["time"] = utcTime(msg.time);
  const auto level = spdlog::level::to_string_view(msg.level);
  line["level"] = std::string(level.data(), level.size());
  line["component"] = std::string(msg.logger_name.data(), msg.logger_name.size());
  line["message"] = std::string(message);
  for (const auto& [key, value] : fixed_) line[key] = value;
  for (const auto& [key, value] : tags.items()) line[key] = value;
  // Bytes the CLI wrote need not be UTF-8: replace, never throw.
  const std::string text = jsonText(line);
  dest.append(text.data(), text.data() + text.size());
  dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>(fixed_);
}

}  // namespace ccmesh
