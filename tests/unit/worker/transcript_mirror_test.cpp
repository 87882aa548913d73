// A session's side of the broker's transcript: positions, batches kept until acknowledged,
// what is sent again, the retention bound.
#include "ccmesh/worker/transcript_mirror.hpp"

#include <gtest/gtest.h>

namespace ccmesh::worker {
namespace {

std::string entry(int n) { return "{\"n\":" + std::to_string(n) + "}"; }

TEST(TranscriptMirror, NumbersEntriesByTheirPositionInTheConversation) {
  TranscriptMirror mirror(1u << 20);
  mirror.begin("c1", 3);  // a seeded transcript of three entries
  mirror.add(entry(4));
  mirror.add(entry(5));
  auto batch = mirror.takeBatch("s", 2);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->first, 4u);
  EXPECT_EQ(batch->session_id, "c1");
  EXPECT_EQ(batch->generation, 2u);
  EXPECT_EQ(batch->entries.size(), 2u);
  EXPECT_EQ(mirror.position(), 5u);
  EXPECT_FALSE(mirror.takeBatch("s", 2)) << "nothing new collected";
}

TEST(TranscriptMirror, KeepsWhatIsNotAcknowledgedAndSendsItAgain) {
  TranscriptMirror mirror(1u << 20);
  mirror.begin("c1", 0);
  for (int n = 1; n <= 3; ++n) mirror.add(entry(n));
  mirror.takeBatch("s", 1);
  mirror.add(entry(4));
  mirror.takeBatch("s", 1);
  mirror.acknowledge("c1", 2);
  mirror.acknowledge("other", 4);  // another conversation's ack changes nothing
  auto again = mirror.unacknowledged("s", 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].first, 3u);
  ASSERT_EQ(again[0].entries.size(), 2u);
  EXPECT_EQ(again[0].entries[0], entry(3));
  mirror.acknowledge("c1", 4);
  EXPECT_TRUE(mirror.unacknowledged("s", 1).empty());
  EXPECT_EQ(mirror.retainedBytes(), 0u);
}

TEST(TranscriptMirror, ForgetsTheOldestBeyondItsBound) {
  TranscriptMirror mirror(entry(1).size() * 2);
  mirror.begin("c1", 0);
  for (int n = 1; n <= 3; ++n) mirror.add(entry(n));
  mirror.takeBatch("s", 1);
  EXPECT_EQ(mirror.forgotten(), 1u);
  auto again = mirror.unacknowledged("s", 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].first, 2u) << "the broker sees the gap before entry 2 if it lacks 1";
}

TEST(TranscriptMirror, ANewConversationStartsAtPositionOne) {
  TranscriptMirror mirror(1u << 20);
  mirror.begin("c1", 0);
  mirror.add(entry(1));
  mirror.takeBatch("s", 1);
  mirror.begin("c2", 0);
  EXPECT_TRUE(mirror.unacknowledged("s", 1).empty());
  mirror.add(entry(1));
  EXPECT_EQ(mirror.takeBatch("s", 1)->first, 1u);
}

}  // namespace
}  // namespace ccmesh::worker
