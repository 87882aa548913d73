#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ccmesh::worker {

// Splits the bytes of a pipe into lines of any length. The CLI prints one JSON object per
// line, and a line can be far longer than a pipe's buffer (a 50 MB answer is one line), so
// bytes accumulate until their newline arrives. A line longer than the cap is dropped and
// counted instead of growing memory without bound.
class LineReader {
 public:
  // What one read() call on the descriptor ended with.
  enum class ReadStatus {
    kData,        // read the whole budget; more may be waiting
    kWouldBlock,  // the pipe is empty for now
    kEof,         // the writer closed its end
    kError,       // read() failed with something other than EAGAIN/EINTR (see lastErrno)
  };

  static constexpr std::size_t kDefaultMaxLineBytes = 256u << 20;

  explicit LineReader(std::size_t max_line_bytes = kDefaultMaxLineBytes);

  // Reads at most `budget` bytes from a nonblocking descriptor into the buffer.
  ReadStatus readFrom(int fd, std::size_t budget);

  // Adds bytes as if they had been read (for tests and for callers with their own I/O).
  void append(std::string_view bytes);

  // Moves the next complete line, without its '\n' (and without a trailing '\r'), into
  // `line`. Returns false when no complete line is buffered.
  bool nextLine(std::string& line);

  // At end of input: moves an unterminated last line into `line`; false if there is none.
  bool takeRemainder(std::string& line);

  // Lines dropped for exceeding the cap since the last call; resets the count.
  std::size_t takeOverflows();

  // Bytes read and not yet returned as lines.
  std::size_t bufferedBytes() const { return buffer_.size() - start_; }

  // errno of the last kError.
  int lastErrno() const { return last_errno_; }

 private:
  // Takes note of the bytes appended at [from, end): finds the newest line end, drops the
  // rest of an overlong line, enforces the cap.
  void absorb(std::size_t from);
  // Drops consumed bytes at the front once they are the larger part of the buffer.
  void compact();

  std::size_t max_line_bytes_;  // longest line kept; longer ones are dropped
  std::string buffer_;          // bytes read; [start_, end) not yet returned
  std::size_t start_ = 0;       // where the next line begins
  std::size_t tail_start_ = 0;  // [tail_start_, end) is an unterminated line (no '\n')
  bool discarding_ = false;     // inside an overlong line: drop bytes up to its '\n'
  std::size_t overflows_ = 0;   // overlong lines dropped since takeOverflows()
  int last_errno_ = 0;          // errno of the last failed read
};

}  // namespace ccmesh::worker
