#include "mock_ids.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <random>

namespace ccmesh::mock_cli {
namespace {

std::mt19937_64& generator() {
  static std::mt19937_64 engine = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return engine;
}

void appendHex(std::string& out, uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
    out.push_back(kHex[(value >> shift) & 0xf]);
}

}  // namespace

std::string newUuidV4() {
  uint64_t high = generator()();
  uint64_t low = generator()();
  high = (high & ~0xf000ULL) | 0x4000ULL;          // version 4
  low = (low & ~(0xcULL << 60)) | (0x8ULL << 60);  // variant 10xx
  std::string out;
  out.reserve(36);
  appendHex(out, high >> 32, 8);
  out.push_back('-');
  appendHex(out, (high >> 16) & 0xffff, 4);
  out.push_back('-');
  appendHex(out, high & 0xffff, 4);
  out.push_back('-');
  appendHex(out, low >> 48, 4);
  out.push_back('-');
  appendHex(out, low & 0xffffffffffffULL, 12);
  return out;
}

std::string newMessageId() {
  std::string out = "msg_";
  appendHex(out, generator()(), 16);
  appendHex(out, generator()() >> 32, 8);
  return out;
}

std::string isoTimestampNow() {
  auto now = std::chrono::system_clock::now();
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof(text) - length, ".%03dZ", static_cast<int>(millis % 1000));
  return text;
}

}  // namespace ccmesh::mock_cli
