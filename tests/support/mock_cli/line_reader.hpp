#pragma once

#include <string>

namespace ccmesh::mock_cli {

// Splits what arrives on a file descriptor into lines, waiting with poll() so a single
// thread can keep reading stdin while it also keeps time (for /sleep and /hang).
class LineReader {
 public:
  enum class Status {
    kLine,    // `line` holds the next line, without its '\n' (or '\r\n')
    kNoLine,  // nothing complete yet: the timeout passed, a signal came or only part arrived
    kEof,     // the descriptor is at end of file and every line has been handed out
  };

  explicit LineReader(int fd) : fd_(fd) {}

  // Hands out a buffered line at once; otherwise waits at most `timeout_ms` (-1: no limit)
  // for input and reads what came. A last line without '\n' is handed out at end of file.
  Status next(std::string& line, int timeout_ms);

  // True once end of file was seen and every buffered byte has been handed out.
  bool exhausted() const { return eof_ && head_ == buffer_.size(); }

 private:
  bool takeBufferedLine(std::string& line);
  void readAvailable();

  int fd_;
  std::string buffer_;
  size_t head_ = 0;     // first byte not yet handed out
  size_t scanned_ = 0;  // bytes from head_ on already known to hold no '\n'
  bool eof_ = false;
};

}  // namespace ccmesh::mock_cli
