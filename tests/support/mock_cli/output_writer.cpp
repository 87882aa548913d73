#include "output_writer.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ccmesh::mock_cli {

std::string dumpCompact(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void OutputWriter::writeLine(const Json& message) {
  std::string line = dumpCompact(message);
  line.push_back('\n');
  writeRaw(line);
}

void OutputWriter::writeLineWithBody(const Json& message, std::string_view placeholder,
                                     const std::function<void()>& write_body) {
  std::string line = dumpCompact(message);
  line.push_back('\n');
  std::string quoted = "\"" + std::string(placeholder) + "\"";
  size_t at = line.find(quoted);
  if (at == std::string::npos) {
    writeRaw(line);
    return;
  }
  std::string_view view = line;
  writeRaw(view.substr(0, at + 1));
  write_body();
  writeRaw(view.substr(at + quoted.size() - 1));
}

void OutputWriter::writeRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd_, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {  // someone made our stdout non-blocking
        pollfd wait_for{fd_, POLLOUT, 0};
        ::poll(&wait_for, 1, -1);
        continue;
      }
      if (errno == EPIPE) std::exit(0);  // the reader has gone: leave quietly
      std::fprintf(stderr, "mock-cli: stdout: %s\n", std::strerror(errno));
      std::exit(1);
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
}

}  // namespace ccmesh::mock_cli
