// `watch`: clients that follow the broker's events. Through a real Broker over inproc (what a
// client sees), and the feed alone with a recording sender (a watcher that stops reading).
#include "feed/watch_feed.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "broker_peer.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "recording_sender.hpp"

namespace ccmesh::broker::testing {
namespace {

using namespace std::chrono_literals;

class WatchTest : public BrokerFixture {
 protected:
  // The next event `peer` receives: from the batch it got last, or from the next message,
  // which must be a batch of watch events.
  msg::FeedEvent nextEvent(BrokerPeer& peer) {
    if (batch_.empty()) {
      auto batch = peer.expect(*broker_, MessageType::kEvent).as<msg::FeedBatch>();
      EXPECT_FALSE(batch.events.empty());
      for (auto& event : batch.events) {
        EXPECT_EQ(event.id, 0u);
        event.id = batch.id;
        batch_.push_back(std::move(event));
      }
    }
    msg::FeedEvent next = std::move(batch_.front());
    batch_.pop_front();
    return next;
  }

  // Events `peer` receives until one of type `kind` (included); fails if none comes.
  std::vector<msg::FeedEvent> eventsUntil(BrokerPeer& peer, const std::string& kind) {
    std::vector<msg::FeedEvent> seen;
    do {
      seen.push_back(nextEvent(peer));
    } while (seen.back().kind != kind);
    return seen;
  }

  std::deque<msg::FeedEvent> batch_;  // events of the last batch not looked at yet
};

TEST_F(WatchTest, AWatcherSeesWorkersAndSessionsChangeInOrder) {
  startBroker();
  auto watcher = client();
  watcher->send(MessageType::kWatch, msg::Watch{1, "", ""});
  watcher->expectSilence(*broker_);  // nothing happened yet, and a watch has no first reply

  auto worker = joinWorker("w1", 2);
  const auto joined = nextEvent(*watcher);
  EXPECT_EQ(joined.id, 1u);
  EXPECT_EQ(joined.kind, "worker_joined");
  EXPECT_EQ(joined.fields.at("worker"), "w1");
  EXPECT_EQ(joined.fields.at("capacity"), "2");
  EXPECT_GT(joined.time_ms, 1'600'000'000'000u);  // Unix time in ms
  EXPECT_NE(joined.text.find("w1"), std::string::npos);

  auto user = client();
  user->send(MessageType::kStart, msg::Start{1, "s", {}});
  const auto started = eventsUntil(*watcher, "session_placed");
  EXPECT_EQ(started.front().kind, "session_registered");
  EXPECT_EQ(started.back().fields.at("session"), "s");
  EXPECT_EQ(started.back().fields.at("worker"), "w1");
  uint64_t seq = joined.seq;
  for (const auto& event : started) {
    EXPECT_EQ(event.id, 1u);
    EXPECT_GT(event.seq, seq) << event.kind;
    seq = event.seq;
  }
}

TEST_F(WatchTest, AWatchOfOneSessionSeesOnlyItsEvents) {
  startBroker();
  auto worker = joinWorker("w1", 4);
  auto watcher = client();
  watcher->send(MessageType::kWatch, msg::Watch{3, "a", ""});
  auto user = client();
  user->send(MessageType::kStart, msg::Start{1, "b", {}});
  worker->expect(*broker_, MessageType::kAssign);
  user->send(MessageType::kStart, msg::Start{2, "a", {}});
  worker->expect(*broker_, MessageType::kAssign);
  const auto seen = eventsUntil(*watcher, "session_state_changed");  // pending -> starting
  EXPECT_EQ(seen.front().kind, "session_registered");
  for (const auto& event : seen) EXPECT_EQ(event.fields.at("session"), "a") << event.kind;
  watcher->expectSilence(*broker_);  // b's events were left out
}

// A query's result is read in place: the client's copy is the worker's body with only the
// id replaced, and query_finished reports the cost and tokens it carries.
TEST_F(WatchTest, AResultIsRelayedWithOnlyItsIdReplacedAndItsFiguresReported) {
  startBroker();
  broker_->addSessions({{"s", {}}});
  auto worker = joinWorker("w1", 4);
  worker->expect(*broker_, MessageType::kAssign);
  auto watcher = client();
  watcher->send(MessageType::kWatch, msg::Watch{1, "s", ""});
  auto peer = client();
  peer->send(MessageType::kQuery, msg::Query{7, "s", "hello"});
  const uint64_t id = worker->expect(*broker_, MessageType::kQuery).as<msg::Query>().id;
  worker->sendFrames({"CCM1", "result",
                      bodyOf({{"future",
                               [](auto& p) {
                                 p.pack(std::vector<int>{1, 2});
                               }},
                              {"text", [](auto& p) { p.pack("Hello"); }},
                              {"id", [id](auto& p) { p.pack_fix_uint64(id); }},
                              {"cost_usd", [](auto& p) { p.pack(0.25f); }},
                              {"input_tokens", [](auto& p) { p.pack_fix_uint16(300); }},
                              {"output_tokens", [](auto& p) { p.pack(12); }}})});
  const auto relayed = peer->expect(*broker_, MessageType::kResult);
  const auto fields = relayed.as<std::map<std::string, msgpack::object>>();
  EXPECT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields.at("id").as<uint64_t>(), 7u);
  EXPECT_EQ(fields.at("text").as<std::string>(), "Hello");
  EXPECT_EQ(fields.at("future").as<std::vector<int>>(), (std::vector<int>{1, 2}));
  EXPECT_EQ(broker_->requests().size(), 0u);
  const auto finished = eventsUntil(*watcher, "query_finished").back();
  EXPECT_EQ(finished.fields.at("outcome"), "ok");
  EXPECT_EQ(finished.fields.at("cost_usd"), "0.25");
  EXPECT_EQ(finished.fields.at("input_tokens"), "300");
  EXPECT_EQ(finished.fields.at("output_tokens"), "12");
}

TEST_F(WatchTest, CancelEndsAWatchAndPingKnowsItWhileItRuns) {
  startBroker();
  auto watcher = client();
  watcher->send(MessageType::kWatch, msg::Watch{1, "", ""});
  auto running = ask(*watcher, MessageType::kPing, msg::Ping{5, {1, 2}}).as<msg::PingResult>();
  EXPECT_EQ(running.unknown, (std::vector<uint64_t>{2}));
  // Its id is in use while it runs.
  auto reused = ask(*watcher, MessageType::kList, msg::Plain{1}).as<msg::ErrorReply>();
  EXPECT_EQ(reused.code, "duplicate_id");

  watcher->send(MessageType::kCancel, msg::Cancel{1});
  const auto ended = watcher->expect(*broker_, MessageType::kError).as<msg::ErrorReply>();
  EXPECT_EQ(ended.id, 1u);
  EXPECT_EQ(ended.code, "cancelled");
  auto after = ask(*watcher, MessageType::kPing, msg::Ping{6, {1}}).as<msg::PingResult>();
  EXPECT_EQ(after.unknown, (std::vector<uint64_t>{1}));
  joinWorker("w1", 1);
  watcher->expectSilence(*broker_);
}

TEST_F(WatchTest, ABadFilterIsRefused) {
  startBroker();
  auto watcher = client();
  auto bad = ask(*watcher, MessageType::kWatch, msg::Watch{4, "no spaces", ""});
  ASSERT_EQ(bad.type, MessageType::kError);
  EXPECT_EQ(bad.as<msg::ErrorReply>().id, 4u);
  EXPECT_EQ(bad.as<msg::ErrorReply>().code, "bad_request");
  auto bad_pool = ask(*watcher, MessageType::kWatch, msg::Watch{5, "", std::string(300, 'p')});
  EXPECT_EQ(bad_pool.as<msg::ErrorReply>().code, "bad_request");
}

TEST_F(WatchTest, AWorkerFallingSilentIsSeenLostThenItsSessionMoved) {
  config_.heartbeat = 100ms;
  startBroker();
  auto w1 = joinWorker("w1", 1);
  auto user = client();
  user->send(MessageType::kStart, msg::Start{1, "s", {}});
  w1->expect(*broker_, MessageType::kAssign);
  auto w2 = joinWorker("w2", 1);
  auto watcher = client();
  watcher->send(MessageType::kWatch, msg::Watch{1, "", ""});
  watcher->expectSilence(*broker_);

  advanceKeepingAlive(config_.heartbeat * 6, {w2.get()});
  const auto seen = eventsUntil(*watcher, "session_moved");
  std::vector<std::string> kinds;
  for (const auto& event : seen) kinds.push_back(event.kind);
  ASSERT_EQ(kinds.front(), "worker_lost");
  EXPECT_EQ(seen.front().fields.at("worker"), "w1");
  EXPECT_EQ(seen.front().fields.at("sessions"), "1");
  EXPECT_EQ(seen.front().fields.at("cause"), "silence");
  EXPECT_EQ(seen.back().fields.at("from"), "w1");
  EXPECT_EQ(seen.back().fields.at("to"), "w2");
  EXPECT_EQ(seen.back().fields.at("requested"), "false");
}

// The feed alone: a watcher whose socket takes nothing.
class WatchFeedTest : public ::testing::Test {
 protected:
  static BrokerEvent joined(uint64_t seq, const std::string& worker) {
    return BrokerEvent{seq, TimePoint{}, event::WorkerJoined{worker, 1, {}, false, 0}};
  }

  // The seqs of the events `peer` was sent, batch after batch.
  std::vector<uint64_t> seqsSentTo(const std::string& peer) const {
    std::vector<uint64_t> seqs;
    for (const auto& sent : sender_.to_clients) {
      if (sent.peer != peer || sent.type != MessageType::kEvent) continue;
      for (const auto& event : sent.as<msg::FeedBatch>().events) seqs.push_back(event.seq);
    }
    return seqs;
  }

  RecordingSender sender_;
  PoolRegistry pools_;
  ShownEvents shown_{pools_};
  WatchFeed feed_{sender_, shown_, 3, Millis(0)};  // batches are due at once
};

TEST_F(WatchFeedTest, AWatcherThatStopsReadingIsQueuedThenCutOffWithBusy) {
  feed_.watch("slow", msg::Watch{7, "", ""});
  feed_.watch("fast", msg::Watch{8, "", ""});
  sender_.slow_clients.insert("slow");
  for (uint64_t seq = 1; seq <= 3; ++seq) feed_.onEvent(joined(seq, "w" + std::to_string(seq)));
  feed_.flush();
  EXPECT_TRUE(feed_.hasBacklog());
  EXPECT_TRUE(feed_.holds("slow", 7));
  // It reads again: the queue goes out in order, before anything new.
  sender_.slow_clients.clear();
  feed_.flush();
  EXPECT_FALSE(feed_.hasBacklog());
  EXPECT_EQ(seqsSentTo("slow"), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(sender_.last("slow", MessageType::kEvent, true).as<msg::FeedBatch>().id, 7u);

  // It stops again, past its queue's limit: the watch ends, the other goes on.
  sender_.slow_clients.insert("slow");
  for (uint64_t seq = 4; seq <= 7; ++seq) feed_.onEvent(joined(seq, "w"));
  feed_.flush();
  EXPECT_FALSE(feed_.holds("slow", 7));
  const auto cut = sender_.last("slow", MessageType::kError, true).as<msg::ErrorReply>();
  EXPECT_EQ(cut.id, 7u);
  EXPECT_EQ(cut.code, "busy");
  EXPECT_TRUE(feed_.holds("fast", 8));
  EXPECT_EQ(seqsSentTo("fast"), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_FALSE(feed_.hasBacklog());
}

TEST_F(WatchFeedTest, EventsGatherIntoOneBatchUntilItIsDueOrFull) {
  WatchFeed feed{sender_, shown_, 100000, std::chrono::hours(1)};
  feed.watch("c", msg::Watch{4, "", ""});
  EXPECT_FALSE(feed.nextFlush().has_value());
  for (uint64_t seq = 1; seq <= 5; ++seq) feed.onEvent(joined(seq, "w"));
  feed.flush();
  EXPECT_TRUE(sender_.to_clients.empty());  // not due for an hour
  ASSERT_TRUE(feed.nextFlush().has_value());
  EXPECT_GT(*feed.nextFlush(), std::chrono::steady_clock::now() + std::chrono::minutes(59));
  // A full batch goes at once, due or not.
  for (uint64_t seq = 6; sender_.to_clients.empty() && seq <= 100000; ++seq) {
    feed.onEvent(joined(seq, "w"));
  }
  ASSERT_EQ(sender_.to_clients.size(), 1u);
  const auto batch = sender_.to_clients[0].as<msg::FeedBatch>();
  EXPECT_EQ(batch.id, 4u);
  ASSERT_GE(batch.events.size(), 5u);
  for (std::size_t i = 0; i < batch.events.size(); ++i) {
    EXPECT_EQ(batch.events[i].seq, i + 1);
    EXPECT_EQ(batch.events[i].kind, "worker_joined");
  }
  EXPECT_FALSE(feed.nextFlush().has_value());
}

TEST_F(WatchFeedTest, FlushAllSendsWhatIsGatheredBeforeItIsDue) {
  WatchFeed feed{sender_, shown_, 100, std::chrono::hours(1)};
  feed.watch("c", msg::Watch{2, "", ""});
  feed.onEvent(joined(1, "w1"));
  feed.flush();
  EXPECT_TRUE(sender_.to_clients.empty());
  feed.flushAll();  // the broker stops
  EXPECT_EQ(seqsSentTo("c"), (std::vector<uint64_t>{1}));
  EXPECT_FALSE(feed.nextFlush().has_value());
}

TEST_F(WatchFeedTest, AWatchOfAPoolSeesItsMembers) {
  auto* pool = pools_.add("p", PoolStrategy::kRoundRobin, true, {});
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pools_.addMember(*pool, "p-1"));
  feed_.watch("c", msg::Watch{1, "", "p"});
  feed_.onEvent(BrokerEvent{1, TimePoint{}, event::SessionStateChanged{"p-1", "idle", "busy"}});
  feed_.onEvent(BrokerEvent{2, TimePoint{}, event::SessionStateChanged{"other", "idle", "busy"}});
  feed_.flush();
  ASSERT_EQ(sender_.to_clients.size(), 1u);
  const auto batch = sender_.to_clients[0].as<msg::FeedBatch>();
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].fields.at("session"), "p-1");
}

TEST_F(WatchFeedTest, AClientLostTakesItsWatchesWithoutAWord) {
  feed_.watch("c", msg::Watch{1, "", ""});
  feed_.watch("c", msg::Watch{2, "", ""});
  feed_.onEvent(joined(1, "w1"));
  feed_.clientLost("c");
  EXPECT_EQ(feed_.watchers(), 0u);
  feed_.onEvent(joined(2, "w1"));
  feed_.flush();
  EXPECT_TRUE(sender_.to_clients.empty());
}

}  // namespace
}  // namespace ccmesh::broker::testing
