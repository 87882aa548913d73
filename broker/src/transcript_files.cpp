#include "transcript_files.hpp"

#include <boost/crc.hpp>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
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

uint32_t crc32Of(const std::string& entry) {
  boost::crc_32_type crc;
  crc.process_bytes(entry.data(), entry.size());
  return crc.checksum();
}

// Writes `data` to `path` opened with fopen `mode`, flushed; why it failed, or nothing.
std::optional<std::string> writeBytes(const std::filesystem::path& path, const char* mode,
                                      const std::string& data) {
  std::FILE* file = std::fopen(path.c_str(), mode);
  if (file == nullptr) return "cannot open " + path.string() + ": " + std::strerror(errno);
  std::optional<std::string> error;
  if (std::fwrite(data.data(), 1, data.size(), file) != data.size() || std::fflush(file) != 0) {
    error = "cannot write " + path.string() + ": " + std::strerror(errno);
  }
  if (std::fclose(file) != 0 && !error) {
    error = "cannot write " + path.string() + ": " + std::strerror(errno);
  }
  return error;
}

// A record line's position and entry, if its checksum matches.
std::optional<std::pair<uint64_t, std::string>> parseRecord(const std::string& line) {
  uint64_t position = 0;
  const char* begin = line.data();
  const char* end = line.data() + line.size();
  auto [after_position, error] = std::from_chars(begin, end, position);
  if (error != std::errc() || position == 0 || after_position == end || *after_position != ' ') {
    return std::nullopt;
  }
  uint32_t crc = 0;
  const char* crc_begin = after_position + 1;
  auto [after_crc, crc_error] = std::from_chars(crc_begin, end, crc, 16);
  if (crc_error != std::errc() || after_crc - crc_begin != 8 || after_crc == end ||
      *after_crc != ' ') {
    return std::nullopt;
  }
  std::string entry(after_crc + 1, end);
  if (!plausibleEntry(entry) || crc32Of(entry) != crc) return std::nullopt;
  return std::make_pair(position, std::move(entry));
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
  if (!std::getline(in, line)) return std::nullopt;
  const bool positioned = line.find("\"ccmesh_transcript\":2") != std::string::npos;
  if (!positioned && line.find("\"ccmesh_transcript\":1") == std::string::npos) {
    return std::nullopt;
  }
  contents.session = headerField(line, "session");
  contents.session_id = headerField(line, "session_id");
  if (contents.session.empty()) return std::nullopt;
  contents.file_bytes = line.size() + 1;
  std::deque<std::string> kept;
  std::size_t kept_bytes = 0;
  uint64_t last = 0;  // the position of the last whole entry read
  while (std::getline(in, line)) {
    const bool torn = in.eof();  // no newline: the write of this line did not finish
    contents.file_bytes += line.size() + (torn ? 0 : 1);
    std::string entry;
    uint64_t position = last + 1;
    if (positioned) {
      auto parsed = parseRecord(line);
      if (!torn && parsed && (last == 0 || parsed->first == last + 1)) {
        position = parsed->first;
        entry = std::move(parsed->second);
      }
    } else if (!torn && plausibleEntry(line)) {
      entry = std::move(line);
    }
    if (entry.empty()) {
      // What follows is not trusted: entries after this one existed but are lost here.
      contents.damage = torn ? "a torn last record" : "a damaged record";
      contents.damage += " after entry " + std::to_string(last);
      contents.rewrite = true;
      break;
    }
    if (last == 0) contents.base = position - 1;
    last = position;
    kept_bytes += entry.size() + 1;
    kept.push_back(std::move(entry));
    while (kept_bytes > max_bytes && !kept.empty()) {
      kept_bytes -= kept.front().size() + 1;
      kept.pop_front();
      ++contents.base;
      contents.rewrite = true;
    }
  }
  if (!positioned) contents.rewrite = true;  // written anew in format 2
  contents.entries.assign(std::make_move_iterator(kept.begin()),
                          std::make_move_iterator(kept.end()));
  return contents;
}

std::optional<std::string> TranscriptFiles::appendBytes(const std::filesystem::path& path,
                                                        const std::string& data) {
  return writeBytes(path, "ab", data);
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
  return "{\"ccmesh_transcript\":2,\"session\":\"" + session + "\",\"session_id\":\"" + session_id +
         "\"}\n";
}

std::optional<std::string> TranscriptFiles::writeTemporaryAndRename(
    const std::filesystem::path& path, const std::string& data) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  auto error = writeBytes(temporary, "wb", data);
  std::error_code code;
  if (!error) {
    std::filesystem::rename(temporary, path, code);
    if (code) error = "cannot rename " + temporary.string() + ": " + code.message();
  }
  if (error) std::filesystem::remove(temporary, code);
  return error;
}

std::string TranscriptFiles::record(uint64_t position, const std::string& entry) {
  char prefix[40];
  std::snprintf(prefix, sizeof prefix, "%llu %08x ", static_cast<unsigned long long>(position),
                crc32Of(entry));
  std::string line = prefix;
  line += entry;
  line += '\n';
  return line;
}

}  // namespace ccmesh::broker
