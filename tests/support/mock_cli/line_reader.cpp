#include "line_reader.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace ccmesh::mock_cli {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kKeepCapacity = 1024 * 1024;  // give back memory after a huge line

}  // namespace

LineReader::Status LineReader::next(std::string& line, int timeout_ms) {
  if (takeBufferedLine(line)) return Status::kLine;
  if (exhausted()) return Status::kEof;
  if (!eof_) {
    pollfd wait_for{fd_, POLLIN, 0};
    int ready = ::poll(&wait_for, 1, timeout_ms);
    if (ready <= 0) return Status::kNoLine;  // timeout or EINTR: callers recompute deadlines
    readAvailable();
  }
  if (takeBufferedLine(line)) return Status::kLine;
  if (eof_ && head_ < buffer_.size()) {  // last line without a newline
    line.assign(buffer_, head_, std::string::npos);
    head_ = buffer_.size();
    scanned_ = 0;
    return Status::kLine;
  }
  return exhausted() ? Status::kEof : Status::kNoLine;
}

bool LineReader::takeBufferedLine(std::string& line) {
  size_t newline = buffer_.find('\n', head_ + scanned_);
  if (newline == std::string::npos) {
    scanned_ = buffer_.size() - head_;
    return false;
  }
  size_t end = newline;
  if (end > head_ && buffer_[end - 1] == '\r') --end;
  line.assign(buffer_, head_, end - head_);
  head_ = newline + 1;
  scanned_ = 0;
  if (head_ == buffer_.size()) {
    buffer_.clear();
    head_ = 0;
    if (buffer_.capacity() > kKeepCapacity) buffer_.shrink_to_fit();
  }
  return true;
}

void LineReader::readAvailable() {
  if (head_ > 0 && head_ >= buffer_.size() / 2) {  // compact so the buffer cannot creep
    buffer_.erase(0, head_);
    head_ = 0;
  }
  size_t old_size = buffer_.size();
  buffer_.resize(old_size + kReadChunk);
  ssize_t got = ::read(fd_, buffer_.data() + old_size, kReadChunk);
  buffer_.resize(old_size + (got > 0 ? static_cast<size_t>(got) : 0));
  if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
    eof_ = true;
  }
}

}  // namespace ccmesh::mock_cli
