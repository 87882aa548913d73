#include "transcript_files.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>

#include "ccmesh/common/config_loader.hpp"

namespace ccmesh::broker {
namespace {

constexpr std::string_view kExtension = ".jsonl";
// Longest escaped name used as is (file names may have 255 bytes).
constexpr std::size_t kMaxFileStem = 200;

bool keptInFileName(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// 64-bit FNV-1a, for names too long to escape into a file name.
uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

// The string value of `"key":"` in a header line (headers hold no escapes: session names and
// ids are checked to be plain).
std::string headerField(const std::string& line, std::string_view key) {
  const std::string marker = "\"" + std::string(key) + "\":\"";
  const auto at = line.find(marker);
  if (at == std::string::npos) return {};
  const auto begin = at + marker.size();
  const auto end = line.find('"', begin);
  return end == std::string::npos ? std::string() : line.substr(begin, end - begin);
}

// What an entry line must look like (the broker never parses entries).
bool plausibleEntry(const std::string& line) {
  return line.size() >= 2 && line.front() == '{' && line.back() == '}';
}

}  // namespace

TranscriptFiles::TranscriptFiles(const std::filesystem::path& data_dir)
    : dir_(data_dir / "transcripts") {
  std::error_code error;
  std::filesystem::create_directories(dir_, error);
  if (error || !std::filesystem::is_directory(dir_)) {
    throw ConfigError("--data-dir: cannot create " + dir_.string() + ": " + error.message());
  }
}

std::vector<std::filesystem::path> TranscriptFiles::list() const {
  std::vector<std::filesystem::path> paths;
  std::error_code error;
  for (const auto& item : std::filesystem::directory_iterator(dir_, error)) {
    if (item.path().extension() == kExtension) paths.push_back(item.path());
  }
  return paths;
}

std::optional<TranscriptFiles::Contents> TranscriptFiles::read(const std::filesystem::path& path,
                                                               std::size_t max_bytes) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  Contents contents;
  std::string line;
  if (!std::getline(in, line) || line.find("\"ccmesh_transcript\":1") == std::string::npos) {
    return std::nullopt;
  }
  contents.session = headerField(line, "session");
  contents.session_id = headerField(line, "session_id");
  if (contents.session.empty()) return std::nullopt;
  contents.file_bytes = line.size() + 1;
  std::deque<std::string> kept;
  std::size_t kept_bytes = 0;
  while (std::getline(in, line)) {
    contents.file_bytes += line.size() + (in.eof() ? 0 : 1);
    if (in.eof() || !plausibleEntry(line)) {
      contents.damaged = true;  // a torn last line, or something that is not an entry
      continue;
    }
    kept_bytes += line.size() + 1;
    kept.push_back(std::move(line));
    while (kept_bytes > max_bytes && !kept.empty()) {
      kept_bytes -= kept.front().size() + 1;
      kept.pop_front();
      ++contents.dropped;
    }
  }
  contents.entries.assign(std::make_move_iterator(kept.begin()),
                          std::make_move_iterator(kept.end()));
  return contents;
}

bool TranscriptFiles::append(const std::string& session, const std::vector<std::string>& entries,
                             std::size_t& file_bytes) {
  std::string data;
  for (const auto& entry : entries) {
    data += entry;
    data += '\n';
  }
  std::FILE* file = std::fopen(pathOf(session).c_str(), "ab");
  if (file == nullptr) return false;
  const bool written = std::fwrite(data.data(), 1, data.size(), file) == data.size();
  const bool flushed = std::fflush(file) == 0;
  const bool closed = std::fclose(file) == 0;
  if (written) file_bytes += data.size();
  return written && flushed && closed;
}

void TranscriptFiles::remove(const std::string& session) {
  std::error_code error;
  std::filesystem::remove(pathOf(session), error);
}

std::filesystem::path TranscriptFiles::pathOf(const std::string& session) const {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string stem;
  for (char c : session) {
    if (keptInFileName(c)) {
      stem += c;
    } else {
      stem += '%';
      stem += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
      stem += kHex[static_cast<unsigned char>(c) & 0xF];
    }
  }
  if (stem.size() > kMaxFileStem) {
    char hashed[32];
    std::snprintf(hashed, sizeof hashed, "%%hash-%016llx",
                  static_cast<unsigned long long>(fnv1a(session)));
    stem = hashed;
  }
  return dir_ / (stem + std::string(kExtension));
}

std::string TranscriptFiles::header(const std::string& session, const std::string& session_id) {
  return "{\"ccmesh_transcript\":1,\"session\":\"" + session + "\",\"session_id\":\"" + session_id +
         "\"}\n";
}

bool TranscriptFiles::writeTemporaryAndRename(const std::filesystem::path& path,
                                              const std::string& data) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) return false;
  const bool written = std::fwrite(data.data(), 1, data.size(), file) == data.size();
  const bool flushed = std::fflush(file) == 0;
  const bool closed = std::fclose(file) == 0;
  std::error_code error;
  if (!(written && flushed && closed)) {
    std::filesystem::remove(temporary, error);
    return false;
  }
  std::filesystem::rename(temporary, path, error);
  return !error;
}

}  // namespace ccmesh::broker
