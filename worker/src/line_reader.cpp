#include "ccmesh/worker/line_reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace ccmesh::worker {
namespace {

// Bytes asked of read() at a time.
constexpr std::size_t kReadChunk = 256u << 10;

}  // namespace

LineReader::LineReader(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

LineReader::ReadStatus LineReader::readFrom(int fd, std::size_t budget) {
  // read() fills a scratch buffer and only the bytes read are appended, so a session's
  // buffer stays as small as its lines. (Growing the buffer by kReadChunk for every read
  // zero-filled that much each time and kept it resident in every session.)
  thread_local std::vector<char> scratch(kReadChunk);
  std::size_t done = 0;
  while (done < budget) {
    const std::size_t want = std::min(kReadChunk, budget - done);
    const ssize_t got = ::read(fd, scratch.data(), want);
    if (got < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) return ReadStatus::kWouldBlock;
      last_errno_ = error;
      return ReadStatus::kError;
    }
    if (got == 0) return ReadStatus::kEof;
    done += static_cast<std::size_t>(got);
    append(std::string_view(scratch.data(), static_cast<std::size_t>(got)));
  }
  return ReadStatus::kData;
}

void LineReader::append(std::string_view bytes) {
  compact();
  const std::size_t old_size = buffer_.size();
  buffer_.append(bytes);
  absorb(old_size);
}

bool LineReader::nextLine(std::string& line) {
  if (start_ >= tail_start_) return false;
  const char* base = buffer_.data();
  const void* found = std::memchr(base + start_, '\n', tail_start_ - start_);
  // Invariant: [start_, tail_start_) holds whole lines, so a '\n' is always there.
  const std::size_t newline = static_cast<const char*>(found) - base;
  std::size_t end = newline;
  if (end > start_ && buffer_[end - 1] == '\r') --end;
  line.assign(buffer_, start_, end - start_);
  start_ = newline + 1;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = tail_start_ = 0;
  }
  return true;
}

bool LineReader::takeRemainder(std::string& line) {
  const bool have = !discarding_ && tail_start_ < buffer_.size();
  if (have) line.assign(buffer_, tail_start_, std::string::npos);
  buffer_.erase(std::max(start_, tail_start_));
  discarding_ = false;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  tail_start_ = buffer_.size();
  return have;
}

std::size_t LineReader::takeOverflows() { return std::exchange(overflows_, 0); }

void LineReader::absorb(std::size_t from) {
  if (from >= buffer_.size()) return;
  if (discarding_) {
    const void* found = std::memchr(buffer_.data() + from, '\n', buffer_.size() - from);
    if (found == nullptr) {
      buffer_.resize(from);  // still inside the overlong line
      return;
    }
    const std::size_t newline = static_cast<const char*>(found) - buffer_.data();
    buffer_.erase(from, newline + 1 - from);
    discarding_ = false;
    if (from >= buffer_.size()) return;
  }
  const void* last = ::memrchr(buffer_.data() + from, '\n', buffer_.size() - from);
  if (last != nullptr) tail_start_ = static_cast<const char*>(last) - buffer_.data() + 1;
  if (buffer_.size() - tail_start_ > max_line_bytes_) {
    ++overflows_;
    buffer_.resize(tail_start_);
    discarding_ = true;
  }
}

void LineReader::compact() {
  if (start_ == 0 || start_ * 2 < buffer_.size()) return;
  buffer_.erase(0, start_);
  tail_start_ -= start_;
  start_ = 0;
}

}  // namespace ccmesh::worker
