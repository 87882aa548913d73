#include "transcript_store.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "mock_ids.hpp"

namespace ccmesh::mock_cli {
namespace {

std::string homeDir() {
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return home;
  if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr && entry->pw_dir) {
    return entry->pw_dir;
  }
  return ".";
}

bool isAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The prompt of a user message: a string, or the text blocks of an array joined together.
// Returns false for user entries that carry no text (e.g. tool results).
bool promptOf(const Json& message, std::string& prompt) {
  if (!message.is_object() || !message.contains("content")) return false;
  const Json& content = message["content"];
  if (content.is_string()) {
    prompt = content.get<std::string>();
    return true;
  }
  if (!content.is_array()) return false;
  bool any_text = false;
  prompt.clear();
  for (const Json& block : content) {
    if (block.is_object() && block.value("type", "") == "text" && block.contains("text") &&
        block["text"].is_string()) {
      prompt += block["text"].get<std::string>();
      any_text = true;
    }
  }
  return any_text;
}

}  // namespace

TranscriptStore::TranscriptStore(std::string session_id, std::string cwd)
    : session_id_(std::move(session_id)), cwd_(std::move(cwd)) {
  path_ = configDir() / "projects" / projectSlug(cwd_) / (session_id_ + ".jsonl");
}

TranscriptStore::~TranscriptStore() {
  if (file_ != nullptr) std::fclose(file_);
}

std::filesystem::path TranscriptStore::configDir() {
  const char* configured = std::getenv("CLAUDE_CONFIG_DIR");
  std::filesystem::path dir = (configured != nullptr && *configured != '\0')
                                  ? std::filesystem::path(configured)
                                  : std::filesystem::path(homeDir()) / ".claude";
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(dir, error);
  return error ? dir : absolute;
}

std::string TranscriptStore::projectSlug(std::string_view cwd) {
  std::string slug(cwd);
  for (char& c : slug) {
    if (!isAsciiAlnum(c)) c = '-';
  }
  return slug;
}

bool TranscriptStore::exists() const {
  std::error_code error;
  return std::filesystem::is_regular_file(path_, error);
}

std::vector<std::string> TranscriptStore::loadPrompts() {
  std::vector<std::string> prompts;
  std::ifstream in(path_, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    Json entry = Json::parse(line, nullptr, false);
    if (!entry.is_object()) continue;
    if (entry.contains("uuid") && entry["uuid"].is_string()) {
      last_uuid_ = entry["uuid"].get<std::string>();
    }
    std::string prompt;
    if (entry.value("type", "") == "user" && entry.contains("message") &&
        promptOf(entry["message"], prompt)) {
      prompts.push_back(std::move(prompt));
    }
  }
  return prompts;
}

Json TranscriptStore::appendUser(const std::string& prompt) {
  Json message;
  message["role"] = "user";
  message["content"] = prompt;
  return append("user", std::move(message));
}

Json TranscriptStore::appendAssistant(const std::string& model, const std::string& text) {
  Json block;
  block["type"] = "text";
  block["text"] = text;
  Json message;
  message["role"] = "assistant";
  message["model"] = model;
  message["content"] = Json::array({std::move(block)});
  return append("assistant", std::move(message));
}

Json TranscriptStore::append(const std::string& type, Json message) {
  Json entry;
  entry["type"] = type;
  entry["uuid"] = newUuidV4();
  entry["parentUuid"] = last_uuid_.empty() ? Json(nullptr) : Json(last_uuid_);
  entry["sessionId"] = session_id_;
  entry["cwd"] = cwd_;
  entry["timestamp"] = isoTimestampNow();
  entry["message"] = std::move(message);
  last_uuid_ = entry["uuid"].get<std::string>();
  write(entry);
  return entry;
}

std::vector<Json> TranscriptStore::takeFork() {
  std::vector<Json> copied;
  if (fork_source_.empty()) return copied;
  std::ifstream in(fork_source_, std::ios::binary);
  fork_source_.clear();
  std::string line;
  while (std::getline(in, line)) {
    Json entry = Json::parse(line, nullptr, false);
    if (!entry.is_object()) continue;
    if (entry.contains("sessionId")) entry["sessionId"] = session_id_;
    if (entry.contains("uuid") && entry["uuid"].is_string()) {
      last_uuid_ = entry["uuid"].get<std::string>();
    }
    write(entry);
    copied.push_back(std::move(entry));
  }
  return copied;
}

void TranscriptStore::write(const Json& entry) {
  if (file_ == nullptr && !failed_) {
    std::error_code error;
    std::filesystem::create_directories(path_.parent_path(), error);
    file_ = std::fopen(path_.c_str(), "a+b");
    if (file_ != nullptr) {
      bool torn = std::fseek(file_, -1, SEEK_END) == 0 && std::fgetc(file_) != '\n';
      std::fseek(file_, 0, SEEK_END);     // switch the stream from reading to writing
      if (torn) std::fputc('\n', file_);  // a torn last line must not swallow our entries
    }
    if (file_ == nullptr) {
      failed_ = true;
      std::fprintf(stderr, "mock-cli: cannot write transcript %s: %s\n", path_.c_str(),
                   std::strerror(errno));
    }
  }
  if (file_ != nullptr) {
    std::string line = dumpCompact(entry);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);
  }
}

}  // namespace ccmesh::mock_cli
