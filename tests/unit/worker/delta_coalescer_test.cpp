#include "delta_coalescer.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace ccmesh::worker {
namespace {

TimePoint at(int64_t ms) { return TimePoint{} + Millis(ms); }

msg::Event delta(uint64_t id, uint64_t seq, std::string text) {
  return msg::Event{id, seq, "delta", std::move(text)};
}

// The coalescer and what it said to send, in order.
struct Stream {
  explicit Stream(DeltaCoalescer::Settings settings) : coalescer(settings) {}
  void add(uint64_t id, std::string text, TimePoint now, bool backlog = false) {
    coalescer.add(delta(id, seqs[id]++, std::move(text)), now, backlog, sent);
  }
  void release(TimePoint now, bool backlog = false) { coalescer.release(now, backlog, sent); }
  std::vector<std::string> texts() const {
    std::vector<std::string> texts;
    for (const auto& event : sent) texts.push_back(event.text);
    return texts;
  }

  DeltaCoalescer coalescer;
  std::vector<msg::Event> sent;
  std::map<uint64_t, uint64_t> seqs;  // the next seq each query's source gives
};

using Texts = std::vector<std::string>;

TEST(DeltaCoalescer, SendsAQuerysFirstDeltaAtOnce) {
  Stream stream({16, Millis(50)});
  stream.add(1, "Hel", at(0), /*backlog=*/true);
  EXPECT_EQ(stream.texts(), Texts{"Hel"}) << "neither a window nor a backlog holds the first";
  EXPECT_EQ(stream.sent[0].seq, 0u);
  EXPECT_EQ(stream.sent[0].kind, "delta");
}

TEST(DeltaCoalescer, MergesTheDeltasOfOneReadIntoOneEvent) {
  Stream stream({1024, Millis(0)});
  stream.add(1, "a", at(0));
  stream.add(1, "b", at(0));
  stream.add(1, "c", at(0));
  EXPECT_EQ(stream.texts(), Texts{"a"});
  EXPECT_EQ(stream.coalescer.holding(), 1u);
  stream.release(at(0));
  EXPECT_EQ(stream.texts(), (Texts{"a", "bc"}));
  EXPECT_EQ(stream.sent[1].seq, 1u) << "merged events are numbered consecutively";
  EXPECT_EQ(stream.coalescer.holding(), 0u);
}

TEST(DeltaCoalescer, SendsADeltaAtOnceWhenNothingOfItsQueryWaits) {
  Stream stream({1024, Millis(0)});
  stream.add(1, "a", at(0));
  stream.release(at(0));
  stream.add(1, "b", at(0));
  EXPECT_EQ(stream.texts(), (Texts{"a", "b"})) << "a new round, nothing held: no waiting";
  stream.release(at(0));
  stream.add(1, "c", at(0));
  stream.add(1, "d", at(0));
  stream.release(at(0));
  EXPECT_EQ(stream.texts(), (Texts{"a", "b", "c", "d"}));
  for (uint64_t i = 0; i < stream.sent.size(); ++i) EXPECT_EQ(stream.sent[i].seq, i);
}

TEST(DeltaCoalescer, HoldsDeltasWithinTheWindowNoLongerThanIt) {
  Stream stream({1024, Millis(2)});
  stream.add(1, "a", at(10));
  stream.release(at(10));
  stream.add(1, "b", at(11));
  stream.release(at(11));
  EXPECT_EQ(stream.texts(), Texts{"a"}) << "1 ms after the last event: held";
  ASSERT_TRUE(stream.coalescer.nextRelease().has_value());
  EXPECT_EQ(*stream.coalescer.nextRelease(), at(12)) << "due when the window ends";
  stream.add(1, "c", at(11));
  stream.release(at(12));
  EXPECT_EQ(stream.texts(), (Texts{"a", "bc"}));
  EXPECT_FALSE(stream.coalescer.nextRelease().has_value());
  stream.add(1, "d", at(20));
  EXPECT_EQ(stream.texts(), (Texts{"a", "bc", "d"})) << "the window passed: at once";
}

TEST(DeltaCoalescer, HoldsDeltasWhileTheLinkHasABacklog) {
  Stream stream({1024, Millis(0)});
  stream.add(1, "a", at(0));
  stream.release(at(0));
  stream.add(1, "b", at(1), /*backlog=*/true);
  stream.release(at(1), /*backlog=*/true);
  stream.add(1, "c", at(2), /*backlog=*/true);
  stream.release(at(2), /*backlog=*/true);
  EXPECT_EQ(stream.texts(), Texts{"a"});
  stream.release(at(3));
  EXPECT_EQ(stream.texts(), (Texts{"a", "bc"})) << "what queued behind the backlog, merged";
}

TEST(DeltaCoalescer, NeverHoldsMoreThanItsByteBound) {
  Stream stream({4, Millis(0)});
  stream.add(1, "0", at(0));
  stream.add(1, "ab", at(0));
  stream.add(1, "cd", at(0));
  EXPECT_EQ(stream.texts(), Texts{"0"}) << "4 bytes held: at the bound, not past it";
  stream.add(1, "e", at(0));
  EXPECT_EQ(stream.texts(), (Texts{"0", "abcd"})) << "5 would pass it: the held text leaves";
  stream.add(1, "fghij", at(0));
  EXPECT_EQ(stream.texts(), (Texts{"0", "abcd", "e", "fghij"}))
      << "a delta past the bound alone leaves alone";
  stream.release(at(0));
  EXPECT_EQ(stream.sent.size(), 4u);
  for (const auto& event : stream.sent) EXPECT_LE(event.text.size(), 5u);
}

TEST(DeltaCoalescer, HandsOverHeldTextBeforeAnythingElseOfItsQuery) {
  Stream stream({1024, Millis(0)});
  stream.add(1, "a", at(0));
  stream.add(1, "b", at(0));
  auto held = stream.coalescer.take(1);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->text, "b");
  EXPECT_EQ(held->seq, 1u);
  EXPECT_FALSE(stream.coalescer.take(1).has_value());
  stream.add(1, "c", at(0));
  held = stream.coalescer.finish(1);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->text, "c");
  EXPECT_EQ(held->seq, 2u);
  stream.release(at(0));
  EXPECT_EQ(stream.texts(), Texts{"a"}) << "nothing left after finish()";
  EXPECT_FALSE(stream.coalescer.finish(1).has_value());
}

TEST(DeltaCoalescer, KeepsQueriesApart) {
  Stream stream({1024, Millis(0)});
  stream.add(1, "a", at(0));
  stream.add(2, "x", at(0));
  stream.add(1, "b", at(0));
  stream.add(2, "y", at(0));
  EXPECT_EQ(stream.texts(), (Texts{"a", "x"})) << "each query's first leaves at once";
  stream.release(at(0));
  ASSERT_EQ(stream.sent.size(), 4u);
  std::map<uint64_t, std::string> text;
  for (const auto& event : stream.sent) text[event.id] += event.text;
  EXPECT_EQ(text[1], "ab");
  EXPECT_EQ(text[2], "xy");
}

// Whatever the timing, rounds and backlog: per query the events carry seq 0, 1, 2, ... and
// their texts, concatenated, are the deltas byte for byte.
TEST(DeltaCoalescer, KeepsOrderAndBytesWhateverTheTiming) {
  std::mt19937 random(7);
  Stream stream({64, Millis(2)});
  std::map<uint64_t, std::string> given;
  int64_t now = 0;
  for (int step = 0; step < 5000; ++step) {
    const uint64_t id = 1 + random() % 3;
    std::string text(random() % 40, '\0');
    for (char& c : text) c = static_cast<char>(random() % 256);
    given[id] += text;
    now += static_cast<int64_t>(random() % 2);
    const bool backlog = random() % 4 == 0;
    stream.add(id, text, at(now), backlog);
    if (random() % 3 == 0) stream.release(at(now), backlog);
  }
  for (uint64_t id = 1; id <= 3; ++id) {
    if (auto held = stream.coalescer.finish(id)) stream.sent.push_back(*held);
  }
  std::map<uint64_t, std::string> got;
  std::map<uint64_t, uint64_t> next_seq;
  for (const auto& event : stream.sent) {
    EXPECT_EQ(event.seq, next_seq[event.id]++) << "query " << event.id;
    EXPECT_LE(event.text.size(), 64u);
    got[event.id] += event.text;
  }
  EXPECT_EQ(got, given);
  EXPECT_LT(stream.sent.size(), 5000u) << "some deltas were merged";
}

}  // namespace
}  // namespace ccmesh::worker
