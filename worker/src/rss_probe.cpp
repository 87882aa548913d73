#include "ccmesh/worker/rss_probe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string>

namespace ccmesh::worker {

std::optional<uint64_t> RssProbe::residentKb(pid_t pid) {
  // statm: size resident shared text lib data dt, in pages.
  const std::string path = "/proc/" + std::to_string(pid) + "/statm";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char text[128];
  ssize_t got;
  do {
    got = ::read(fd, text, sizeof text - 1);
  } while (got < 0 && errno == EINTR);
  ::close(fd);
  if (got <= 0) return std::nullopt;
  const char* end = text + got;
  const char* space = std::find(static_cast<const char*>(text), end, ' ');
  if (space == end) return std::nullopt;
  uint64_t pages = 0;
  auto [stop, ec] = std::from_chars(space + 1, end, pages);
  if (ec != std::errc() || stop == space + 1) return std::nullopt;
  static const long kPageBytes = ::sysconf(_SC_PAGESIZE);
  return pages * static_cast<uint64_t>(kPageBytes > 0 ? kPageBytes : 4096) / 1024;
}

}  // namespace ccmesh::worker
