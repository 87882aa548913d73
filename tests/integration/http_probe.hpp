#pragma once

#include <httplib.h>

#include <chrono>
#include <sstream>
#include <string>

namespace ccmesh::test {

// An HTTP client of `url` (http://127.0.0.1:PORT) with the tests' patience.
inline httplib::Client httpClient(const std::string& url) {
  httplib::Client client(url);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(10));
  return client;
}

// The value of the sample `series` (name{labels}) in exposition text; -1 if absent.
inline double sampleOf(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

}  // namespace ccmesh::test
