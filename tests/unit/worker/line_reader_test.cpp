#include "ccmesh/worker/line_reader.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace ccmesh::worker {
namespace {

std::vector<std::string> allLines(LineReader& reader) {
  std::vector<std::string> lines;
  std::string line;
  while (reader.nextLine(line)) lines.push_back(line);
  return lines;
}

TEST(LineReader, JoinsALineSplitAcrossReads) {
  LineReader reader;
  reader.append("{\"a\":");
  EXPECT_TRUE(allLines(reader).empty());
  reader.append("1}\n{\"b\"");
  EXPECT_EQ(allLines(reader), std::vector<std::string>{"{\"a\":1}"});
  reader.append(":2}\n");
  EXPECT_EQ(allLines(reader), std::vector<std::string>{"{\"b\":2}"});
  EXPECT_EQ(reader.bufferedBytes(), 0u);
}

TEST(LineReader, YieldsSeveralLinesFromOneReadAndStripsCarriageReturns) {
  LineReader reader;
  reader.append("one\r\ntwo\n\nthree\n");
  EXPECT_EQ(allLines(reader), (std::vector<std::string>{"one", "two", "", "three"}));
}

TEST(LineReader, KeepsAFiveMegabyteLineWhole) {
  LineReader reader;
  const std::string big(5u << 20, 'x');
  // Arrives in pieces smaller than a pipe buffer, as from a real pipe.
  for (std::size_t at = 0; at < big.size(); at += 65536) {
    reader.append(std::string_view(big).substr(at, 65536));
  }
  std::string line;
  EXPECT_FALSE(reader.nextLine(line));
  reader.append("\nafter\n");
  ASSERT_TRUE(reader.nextLine(line));
  EXPECT_EQ(line.size(), big.size());
  EXPECT_EQ(line, big);
  ASSERT_TRUE(reader.nextLine(line));
  EXPECT_EQ(line, "after");
  EXPECT_EQ(reader.takeOverflows(), 0u);
}

TEST(LineReader, DropsALineOverTheCapAndKeepsGoing) {
  LineReader reader(1000);
  reader.append("before\n");
  reader.append(std::string(600, 'a'));
  reader.append(std::string(600, 'a'));  // now over the cap, still no newline
  EXPECT_EQ(reader.takeOverflows(), 1u);
  EXPECT_LE(reader.bufferedBytes(), 1000u);
  reader.append(std::string(5000, 'a'));  // the rest of the overlong line is discarded
  EXPECT_LE(reader.bufferedBytes(), 1000u);
  reader.append("aaa\nnext\n");
  EXPECT_EQ(allLines(reader), (std::vector<std::string>{"before", "next"}));
  EXPECT_EQ(reader.takeOverflows(), 0u);
}

TEST(LineReader, ReadsFromANonblockingPipeUpToItsBudget) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK), 0);
  LineReader reader;
  EXPECT_EQ(reader.readFrom(fds[0], 1024), LineReader::ReadStatus::kWouldBlock);
  const std::string text = "hello\nworld";
  ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  EXPECT_EQ(reader.readFrom(fds[0], 4), LineReader::ReadStatus::kData);  // budget reached
  EXPECT_EQ(reader.readFrom(fds[0], 1024), LineReader::ReadStatus::kWouldBlock);
  EXPECT_EQ(allLines(reader), std::vector<std::string>{"hello"});
  ::close(fds[1]);
  EXPECT_EQ(reader.readFrom(fds[0], 1024), LineReader::ReadStatus::kEof);
  std::string rest;
  ASSERT_TRUE(reader.takeRemainder(rest));
  EXPECT_EQ(rest, "world");
  EXPECT_FALSE(reader.takeRemainder(rest));
  ::close(fds[0]);
}

TEST(LineReader, ReadsAFiftyMegabyteLineThroughAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK), 0);
  const std::size_t size = 50u << 20;
  std::thread writer([fd = fds[1], size] {
    // Blocking writes from another thread, like a CLI printing a huge answer.
    ::fcntl(fd, F_SETFL, 0);
    std::string chunk(1u << 20, 'z');
    for (std::size_t sent = 0; sent < size; sent += chunk.size()) {
      ASSERT_EQ(::write(fd, chunk.data(), chunk.size()), static_cast<ssize_t>(chunk.size()));
    }
    ASSERT_EQ(::write(fd, "\n", 1), 1);
    ::close(fd);
  });
  LineReader reader;
  std::string line;
  bool got = false;
  while (!got) {
    const auto status = reader.readFrom(fds[0], 1u << 20);
    got = reader.nextLine(line);
    ASSERT_NE(status, LineReader::ReadStatus::kError);
    if (status == LineReader::ReadStatus::kEof) break;
  }
  writer.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(line.size(), size);
  EXPECT_EQ(line.find_first_not_of('z'), std::string::npos);
  ::close(fds[0]);
}

}  // namespace
}  // namespace ccmesh::worker
