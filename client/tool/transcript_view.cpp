#include "transcript_view.hpp"

namespace ccmesh::client {
namespace {

// The text of a message's content: a string, or its text blocks joined.
std::string textOf(const nlohmann::json& message) {
  if (!message.is_object()) return {};
  auto content = message.find("content");
  if (content == message.end()) return {};
  if (content->is_string()) return content->get<std::string>();
  std::string text;
  if (!content->is_array()) return text;
  for (const auto& block : *content) {
    if (!block.is_object() || block.value("type", "") != "text") continue;
    auto part = block.find("text");
    if (part != block.end() && part->is_string()) text += part->get<std::string>();
  }
  return text;
}

}  // namespace

std::vector<TranscriptTurn> TranscriptView::turns(std::string_view jsonl) {
  std::vector<TranscriptTurn> turns;
  std::string last_message_id;
  while (!jsonl.empty()) {
    const auto end = jsonl.find('\n');
    const std::string_view line = jsonl.substr(0, end);
    jsonl = end == std::string_view::npos ? std::string_view() : jsonl.substr(end + 1);
    auto entry = nlohmann::json::parse(line, nullptr, false);
    if (!entry.is_object()) continue;
    const std::string type = entry.value("type", "");
    if (type != "user" && type != "assistant") continue;
    if (entry.value("isMeta", false)) continue;
    auto message = entry.find("message");
    if (message == entry.end()) continue;
    std::string text = textOf(*message);
    if (text.empty()) continue;
    const std::string message_id =
        message->is_object() ? message->value("id", std::string()) : std::string();
    if (type == "assistant" && !turns.empty() && turns.back().role == "assistant" &&
        !message_id.empty() && message_id == last_message_id) {
      turns.back().text += text;
      continue;
    }
    last_message_id = message_id;
    turns.push_back({type, std::move(text), entry.value("timestamp", std::string())});
  }
  return turns;
}

void TranscriptView::print(std::ostream& out, const std::vector<TranscriptTurn>& turns) {
  for (const auto& turn : turns) out << turn.role << ": " << turn.text << "\n";
}

Json TranscriptView::toJson(const std::vector<TranscriptTurn>& turns) {
  Json list = Json::array();
  for (const auto& turn : turns) {
    list.push_back(Json{{"role", turn.role}, {"text", turn.text}, {"timestamp", turn.timestamp}});
  }
  return list;
}

}  // namespace ccmesh::client
