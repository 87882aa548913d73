#include "ccmesh/worker/line_reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ccmesh::worker {
namespace {

// Bytes asked of read() at a time; the buffer grows by at most this much per call.
constexpr std::size_t kReadChunk = 256u << 10;

}  // namespace

LineReader::LineReader(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

LineReader::ReadStatus LineReader::readFrom(int fd, std::size_t budget) {
  std::size_t done = 0;
  while (done < budget) {
    compact();
    const std::size_t want = std::min(kReadChunk, budget - done);
    const std::size_t old_size = buffer_.size();
    buffer_.resize(old_size + want);
    const ssize_t got = ::read(fd, buffer_.data() + old_size, want);
    if (got < 0) {
      const int error = errno;
      buffer_.resize(old_size);
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) return ReadStatus::kWouldBlock;
      last_errno_ = error;
      return ReadStatus::kError;
    }
    buffer_.resize(old_size + static_cast<std::size_t>(got));
    if (got == 0) return ReadStatus::kEof;
    done += static_cast<std::size_t>(got);
    checkCap();
  }
  return ReadStatus::kData;
}

void LineReader::append(std::string_view bytes) {
  compact();
  buffer_.append(bytes);
  checkCap();
}

bool LineReader::nextLine(std::string& line) {
  while (true) {
    const std::size_t from = std::max(start_, scanned_);
    const std::size_t newline = buffer_.find('\n', from);
    if (newline == std::string::npos) {
      scanned_ = buffer_.size();
      return false;
    }
    if (discarding_) {
      // The tail of an overlong line: drop it and look for the next line.
      discarding_ = false;
      start_ = scanned_ = newline + 1;
      continue;
    }
    std::size_t end = newline;
    if (end > start_ && buffer_[end - 1] == '\r') --end;
    line.assign(buffer_, start_, end - start_);
    start_ = scanned_ = newline + 1;
    if (start_ == buffer_.size()) {
      buffer_.clear();
      start_ = scanned_ = 0;
    }
    return true;
  }
}

bool LineReader::takeRemainder(std::string& line) {
  if (discarding_ || start_ >= buffer_.size()) {
    buffer_.clear();
    start_ = scanned_ = 0;
    discarding_ = false;
    return false;
  }
  line.assign(buffer_, start_, std::string::npos);
  buffer_.clear();
  start_ = scanned_ = 0;
  return true;
}

std::size_t LineReader::takeOverflows() {
  return std::exchange(overflows_, 0);
}

void LineReader::checkCap() {
  if (discarding_) {
    // Nothing of an overlong line is kept, except what follows its end.
    const std::size_t newline = buffer_.find('\n', start_);
    if (newline == std::string::npos) {
      buffer_.clear();
      start_ = scanned_ = 0;
    }
    return;
  }
  // Only the unterminated tail counts: complete lines are waiting to be taken.
  const std::size_t last_newline = buffer_.rfind('\n');
  const std::size_t tail_start =
      last_newline == std::string::npos || last_newline < start_ ? start_ : last_newline + 1;
  if (buffer_.size() - tail_start <= max_line_bytes_) return;
  ++overflows_;
  discarding_ = true;
  buffer_.resize(tail_start);
  scanned_ = std::min(scanned_, buffer_.size());
  if (tail_start > start_) {
    // Complete lines before the overlong one stay; the marker is a newline-free tail, so
    // the next '\n' found after them ends the overlong line. Keep them and mark where the
    // discarded part starts by the end of the buffer.
    discard_from_complete_lines_ = true;
  }
}

void LineReader::compact() {
  if (start_ == 0) return;
  if (start_ * 2 < buffer_.size() && start_ < (1u << 20)) return;
  buffer_.erase(0, start_);
  scanned_ -= std::min(scanned_, start_);
  start_ = 0;
}

}  // namespace ccmesh::worker
