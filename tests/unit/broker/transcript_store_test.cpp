// The broker's transcript store: the per-session and total bounds, a new conversation
// starting over, the data directory (restart, eviction to disk, a torn last line), and
// positions: duplicates dropped, gaps refused, completeness and what an ack may say.
#include "ccmesh/broker/transcript_store.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ccmesh::broker {
namespace {

// An entry of exactly `bytes` bytes (a JSON object), tagged `tag`.
std::string entry(const std::string& tag, std::size_t bytes = 100) {
  std::string text = "{\"tag\":\"" + tag + "\",\"pad\":\"";
  const std::size_t rest = bytes - text.size() - 2;
  return text + std::string(rest, 'x') + "\"}";
}

class TranscriptStoreTest : public ::testing::Test {
 protected:
  TranscriptStoreTest()
      : log_(std::make_shared<spdlog::logger>("test",
                                              std::make_shared<spdlog::sinks::null_sink_mt>())),
        dir_(std::filesystem::temp_directory_path() /
             ("ccmesh-transcripts-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {}
  ~TranscriptStoreTest() override {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }

  std::unique_ptr<TranscriptStore> store(TranscriptLimits limits, bool on_disk = false) {
    auto made = std::make_unique<TranscriptStore>(limits, on_disk ? dir_.string() : "", log_);
    made->load();
    return made;
  }

  std::shared_ptr<spdlog::logger> log_;  // discards the warnings
  std::filesystem::path dir_;            // data directory of the test
};

TEST_F(TranscriptStoreTest, DropsTheOldestEntriesBeyondThePerSessionBound) {
  auto transcripts = store({1010, 1u << 20});  // ten 101-byte lines fit
  for (int i = 0; i < 12; ++i) transcripts->append("s", "c1", 0, {entry(std::to_string(i))}, 7);
  const Transcript* kept = transcripts->get("s");
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->entries.size(), 10u);
  EXPECT_EQ(kept->count, 10u);
  EXPECT_EQ(kept->bytes, 1010u);
  EXPECT_EQ(kept->dropped, 2u);
  EXPECT_EQ(kept->entries.front(), entry("2"));
  EXPECT_EQ(kept->entries.back(), entry("11"));
  EXPECT_EQ(kept->last_entry_ms, 7u);
  EXPECT_EQ(transcripts->stats().dropped_entries, 2u);
  EXPECT_EQ(transcripts->residentBytes(), 1010u);
}

TEST_F(TranscriptStoreTest, DropsTheLeastRecentlyUsedTranscriptsBeyondTheTotalBound) {
  auto transcripts = store({1000, 2400});
  for (const char* name : {"a", "b", "c"}) {
    for (int i = 0; i < 8; ++i) transcripts->append(name, "c1", 0, {entry(name)}, 1);
  }
  // 808 bytes each: the third is over 2400, so the least recently used (a) went.
  EXPECT_EQ(transcripts->peek("a"), nullptr);
  ASSERT_NE(transcripts->peek("b"), nullptr);
  ASSERT_NE(transcripts->peek("c"), nullptr);
  EXPECT_EQ(transcripts->stats().evictions, 1u);
  EXPECT_LE(transcripts->residentBytes(), 2400u);

  transcripts->get("b");  // b is now the most recently used: d evicts c
  for (int i = 0; i < 8; ++i) transcripts->append("d", "c1", 0, {entry("d")}, 1);
  EXPECT_NE(transcripts->peek("b"), nullptr);
  EXPECT_EQ(transcripts->peek("c"), nullptr);
}

TEST_F(TranscriptStoreTest, ANewConversationStartsTheTranscriptOver) {
  auto transcripts = store({1u << 20, 1u << 20});
  transcripts->append("s", "c1", 0, {entry("old"), entry("old")}, 1);
  transcripts->append("s", "c2", 0, {entry("new")}, 2);
  const Transcript* kept = transcripts->get("s");
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->session_id, "c2");
  ASSERT_EQ(kept->entries.size(), 1u);
  EXPECT_EQ(kept->entries.front(), entry("new"));
  EXPECT_EQ(transcripts->residentBytes(), 101u);
}

TEST_F(TranscriptStoreTest, DataDirectoryKeepsTranscriptsForTheNextBroker) {
  {
    auto first = store({1u << 20, 1u << 20}, true);
    first->append("pool/1", "c1", 0, {entry("one"), entry("two")}, 1);
    first->append("pool/1", "c1", 0, {entry("three")}, 2);
    first->append("gone", "c9", 0, {entry("x")}, 3);
    first->remove("gone");
  }
  auto second = store({1u << 20, 1u << 20}, true);
  EXPECT_EQ(second->peek("gone"), nullptr);
  const Transcript* kept = second->get("pool/1");
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->session_id, "c1");
  ASSERT_EQ(kept->entries.size(), 3u);
  EXPECT_EQ(kept->entries.back(), entry("three"));
  EXPECT_GT(kept->last_entry_ms, 0u);
}

TEST_F(TranscriptStoreTest, ACopyBegunFromAWorkersReportIsKeptForTheNextBroker) {
  {
    // A restarted broker hears of a conversation first from its worker's report (`ready`
    // or `session_update`), then gets its entries: they reach the file with its header.
    auto first = store({1u << 20, 1u << 20}, true);
    first->noteKnown("s", "c1", 2);
    first->append("s", "c1", 1, {entry("1"), entry("2")}, 1);
    EXPECT_TRUE(first->get("s")->complete());
    // The same after the report of another conversation started the copy over.
    first->append("t", "c1", 1, {entry("old")}, 1);
    first->noteKnown("t", "c2", 1);
    first->append("t", "c2", 1, {entry("new")}, 2);
  }
  auto second = store({1u << 20, 1u << 20}, true);
  const Transcript* kept = second->get("s");
  ASSERT_NE(kept, nullptr) << "the next broker skipped the file";
  EXPECT_EQ(kept->session_id, "c1");
  ASSERT_EQ(kept->entries.size(), 2u);
  EXPECT_TRUE(kept->complete());
  const Transcript* other = second->get("t");
  ASSERT_NE(other, nullptr) << "the next broker skipped the file";
  EXPECT_EQ(other->session_id, "c2");
  ASSERT_EQ(other->entries.size(), 1u);
  EXPECT_EQ(other->entries.front(), entry("new"));
}

TEST_F(TranscriptStoreTest, EvictedTranscriptStaysOnDiskAndIsReadBack) {
  auto transcripts = store({1000, 1000}, true);
  for (int i = 0; i < 5; ++i) transcripts->append("a", "c1", 0, {entry("a")}, 1);
  for (int i = 0; i < 9; ++i) transcripts->append("b", "c1", 0, {entry("b")}, 1);
  const Transcript* evicted = transcripts->peek("a");
  ASSERT_NE(evicted, nullptr);
  EXPECT_FALSE(evicted->resident);
  EXPECT_EQ(evicted->count, 5u);  // `info` still knows its size
  EXPECT_EQ(transcripts->stats().evictions, 1u);

  const Transcript* back = transcripts->get("a");
  ASSERT_NE(back, nullptr);
  EXPECT_TRUE(back->resident);
  EXPECT_EQ(back->entries.size(), 5u);
  EXPECT_FALSE(transcripts->peek("b")->resident) << "reading a back made room by evicting b";
  EXPECT_LE(transcripts->residentBytes(), 1000u);
}

TEST_F(TranscriptStoreTest, TornLastLineIsDroppedAtLoad) {
  {
    auto first = store({1u << 20, 1u << 20}, true);
    first->append("s", "c1", 0, {entry("whole")}, 1);
  }
  for (const auto& file : std::filesystem::directory_iterator(dir_ / "transcripts")) {
    std::ofstream(file.path(), std::ios::app) << "{\"torn\":";
  }
  auto second = store({1u << 20, 1u << 20}, true);
  second->append("s", "c1", 0, {entry("after")}, 2);
  auto third = store({1u << 20, 1u << 20}, true);
  const Transcript* kept = third->get("s");
  ASSERT_NE(kept, nullptr);
  ASSERT_EQ(kept->entries.size(), 2u);
  EXPECT_EQ(kept->entries.front(), entry("whole"));
  EXPECT_EQ(kept->entries.back(), entry("after"));
}

TEST_F(TranscriptStoreTest, AResentBatchIsStoredOnceAndAcknowledged) {
  auto transcripts = store({1u << 20, 1u << 20});
  EXPECT_EQ(transcripts->append("s", "c1", 1, {entry("1"), entry("2")}, 1), 2u);
  // The same batch again (its ack was lost), then one overlapping the end.
  EXPECT_EQ(transcripts->append("s", "c1", 1, {entry("1"), entry("2")}, 2), 2u);
  EXPECT_EQ(transcripts->append("s", "c1", 2, {entry("2"), entry("3")}, 3), 3u);
  const Transcript* kept = transcripts->get("s");
  ASSERT_NE(kept, nullptr);
  ASSERT_EQ(kept->entries.size(), 3u);
  EXPECT_EQ(kept->entries[2], entry("3"));
  EXPECT_TRUE(kept->complete());
  EXPECT_EQ(transcripts->stats().duplicates, 3u);
}

TEST_F(TranscriptStoreTest, EntriesAfterAGapAreNotStoredAndTheCopySaysItIsCut) {
  auto transcripts = store({1u << 20, 1u << 20});
  transcripts->append("s", "c1", 1, {entry("1"), entry("2")}, 1);
  // Entries 3 and 4 never came; 5 must not follow 2 as if they had.
  EXPECT_EQ(transcripts->append("s", "c1", 5, {entry("5")}, 2), 2u);
  const Transcript* kept = transcripts->get("s");
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->entries.size(), 2u);
  EXPECT_FALSE(kept->complete());
  EXPECT_EQ(kept->known, 5u);
  EXPECT_NE(kept->cutReason().find("entries 1..2 of 5"), std::string::npos) << kept->cutReason();
  EXPECT_EQ(transcripts->stats().gaps, 1u);
  // The worker sends what was missing: whole again.
  EXPECT_EQ(transcripts->append("s", "c1", 3, {entry("3"), entry("4"), entry("5")}, 3), 5u);
  EXPECT_TRUE(transcripts->get("s")->complete());
}

TEST_F(TranscriptStoreTest, ACopyWhoseStartNeverCameAcknowledgesNothing) {
  auto transcripts = store({1u << 20, 1u << 20});
  // A broker that restarted without its files hears entries 5.. first: storing them is
  // fine, but an ack must not tell the worker it may forget 1..6.
  EXPECT_EQ(transcripts->append("s", "c1", 5, {entry("5"), entry("6")}, 1), 0u);
  EXPECT_FALSE(transcripts->get("s")->complete());
  // The worker's snapshot (its CLI's transcript from disk) makes it whole.
  EXPECT_EQ(transcripts->append(
                "s", "c1", 1,
                {entry("1"), entry("2"), entry("3"), entry("4"), entry("5"), entry("6")}, 2, true),
            6u);
  EXPECT_TRUE(transcripts->get("s")->complete());
}

TEST_F(TranscriptStoreTest, APositionTheWorkerReportsBeyondTheCopyMakesItIncomplete) {
  auto transcripts = store({1u << 20, 1u << 20});
  transcripts->append("s", "c1", 1, {entry("1")}, 1);
  transcripts->noteKnown("s", "c1", 3);
  EXPECT_FALSE(transcripts->get("s")->complete());
  transcripts->acceptCut("s");  // restart --from-cut
  EXPECT_TRUE(transcripts->get("s")->complete());
  // A conversation that began on a broker that kept none of it.
  transcripts->noteKnown("fresh", "c7", 4);
  ASSERT_NE(transcripts->peek("fresh"), nullptr);
  EXPECT_FALSE(transcripts->peek("fresh")->complete());
  // Another conversation of the same session starts the copy over.
  transcripts->noteKnown("s", "c2", 0);
  EXPECT_EQ(transcripts->get("s")->count, 0u);
  EXPECT_TRUE(transcripts->get("s")->complete());
}

TEST_F(TranscriptStoreTest, DroppingOldEntriesForTheBoundCutsTheCopy) {
  auto transcripts = store({1010, 1u << 20});
  for (int i = 0; i < 12; ++i) transcripts->append("s", "c1", 0, {entry(std::to_string(i))}, 7);
  const Transcript* kept = transcripts->get("s");
  EXPECT_EQ(kept->base, 2u);
  EXPECT_FALSE(kept->complete());
  EXPECT_NE(kept->cutReason().find("--transcript-max-bytes"), std::string::npos);
}

TEST_F(TranscriptStoreTest, ADamagedRecordEndsWhatIsLoadedAndTheRestCanComeAgain) {
  {
    auto first = store({1u << 20, 1u << 20}, true);
    first->append("s", "c1", 1, {entry("1"), entry("2"), entry("3")}, 1);
  }
  // Flip one byte of the second record's entry: its checksum no longer matches.
  std::filesystem::path file;
  for (const auto& item : std::filesystem::directory_iterator(dir_ / "transcripts")) {
    file = item.path();
  }
  std::string text;
  {
    std::ifstream in(file, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto second_record = text.find("\n2 ");
  ASSERT_NE(second_record, std::string::npos);
  const auto tag = text.find("\"tag\":\"2\"", second_record);
  ASSERT_NE(tag, std::string::npos);
  text[tag + 7] = '9';
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;

  auto second = store({1u << 20, 1u << 20}, true);
  const Transcript* kept = second->get("s");
  ASSERT_NE(kept, nullptr);
  ASSERT_EQ(kept->entries.size(), 1u) << "nothing after a damaged record is taken as whole";
  EXPECT_FALSE(kept->complete());
  EXPECT_EQ(second->stats().damaged_files, 1u);
  EXPECT_NE(kept->cutReason().find("damaged record after entry 1"), std::string::npos)
      << kept->cutReason();
  // The worker still held entries 2 and 3 (never acknowledged): whole again, and on disk.
  EXPECT_EQ(second->append("s", "c1", 2, {entry("2"), entry("3")}, 2), 3u);
  EXPECT_TRUE(second->get("s")->complete());
  auto third = store({1u << 20, 1u << 20}, true);
  ASSERT_EQ(third->get("s")->entries.size(), 3u);
  EXPECT_TRUE(third->get("s")->complete());
}

TEST_F(TranscriptStoreTest, AFailedWriteIsNotAcknowledgedAndTheFileIsWrittenWholeLater) {
  auto transcripts = store({1u << 20, 1u << 20}, true);
  EXPECT_EQ(transcripts->append("s", "c1", 1, {entry("1")}, 1), 1u);
  // The file's place becomes a directory: appends fail (as on a full disk) until it goes.
  std::filesystem::path file;
  for (const auto& item : std::filesystem::directory_iterator(dir_ / "transcripts")) {
    file = item.path();
  }
  std::filesystem::remove(file);
  std::filesystem::create_directory(file);
  EXPECT_EQ(transcripts->append("s", "c1", 2, {entry("2")}, 2), 1u)
      << "an entry not on disk must not be acknowledged";
  EXPECT_EQ(transcripts->stats().write_errors, 1u);
  std::filesystem::remove(file);
  EXPECT_EQ(transcripts->append("s", "c1", 3, {entry("3")}, 3), 3u);
  auto reloaded = store({1u << 20, 1u << 20}, true);
  ASSERT_EQ(reloaded->get("s")->entries.size(), 3u);
  EXPECT_TRUE(reloaded->get("s")->complete());
}

}  // namespace
}  // namespace ccmesh::broker
