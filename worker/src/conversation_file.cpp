#include "ccmesh/worker/conversation_file.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ccmesh::worker {
namespace {

bool isAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The value of `name` in a K=V environment, or "".
std::string lookup(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& entry : env) {
    if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
        entry[name.size()] == '=') {
      return entry.substr(name.size() + 1);
    }
  }
  return {};
}

std::string homeOf(const std::vector<std::string>& env) {
  if (std::string home = lookup(env, "HOME"); !home.empty()) return home;
  if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr && entry->pw_dir) {
    return entry->pw_dir;
  }
  return ".";
}

}  // namespace

std::filesystem::path ConversationFile::pathFor(const std::vector<std::string>& env,
                                                const std::string& cwd,
                                                const std::string& session_id) {
  std::filesystem::path config;
  if (std::string configured = lookup(env, "CLAUDE_CONFIG_DIR"); !configured.empty()) {
    config = configured;
  } else {
    config = std::filesystem::path(homeOf(env)) / ".claude";
  }
  std::error_code error;
  std::filesystem::path dir =
      cwd.empty() ? std::filesystem::current_path(error) : std::filesystem::path(cwd);
  std::filesystem::path resolved = std::filesystem::canonical(dir, error);
  if (!error) dir = resolved;
  return config / "projects" / projectSlug(dir.string()) / (session_id + ".jsonl");
}

std::string ConversationFile::projectSlug(std::string_view cwd) {
  std::string slug(cwd);
  for (char& c : slug) {
    if (!isAsciiAlnum(c)) c = '-';
  }
  return slug;
}

bool ConversationFile::usableSessionId(std::string_view session_id) {
  return !session_id.empty() && session_id != "." && session_id != ".." &&
         session_id.find('/') == std::string_view::npos &&
         session_id.find('\0') == std::string_view::npos;
}

std::optional<std::string> ConversationFile::write(const std::filesystem::path& path,
                                                   const std::string& jsonl) {
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) return "cannot create " + path.parent_path().string() + ": " + error.message();
  const std::filesystem::path temporary = path.string() + ".ccmesh-tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) return "cannot write " + temporary.string() + ": " + std::strerror(errno);
  bool ok = std::fwrite(jsonl.data(), 1, jsonl.size(), file) == jsonl.size();
  if (ok && !jsonl.empty() && jsonl.back() != '\n') ok = std::fputc('\n', file) != EOF;
  ok = std::fflush(file) == 0 && ok;
  const int saved = errno;
  std::fclose(file);
  if (!ok) {
    std::filesystem::remove(temporary, error);
    return "cannot write " + temporary.string() + ": " + std::strerror(saved);
  }
  std::filesystem::rename(temporary, path, error);
  if (error) return "cannot rename " + temporary.string() + ": " + error.message();
  return std::nullopt;
}

}  // namespace ccmesh::worker
