// The worker's lease: renewed only by acknowledgments, counted from when the acknowledged
// message was sent.
#include "ccmesh/worker/lease.hpp"

#include <gtest/gtest.h>

namespace ccmesh::worker {
namespace {

using namespace std::chrono_literals;

TEST(Lease, AnAcknowledgmentSaysWhenItsMessageWasSentForTheRoundTrip) {
  ManualClock clock;
  Lease lease(300ms);
  const TimePoint sent = clock.now();
  lease.noteSent(4, sent);
  clock.advance(20ms);
  EXPECT_EQ(lease.acknowledge(4), sent);
  EXPECT_EQ(lease.acknowledge(99), std::nullopt) << "never sent";
}

TEST(Lease, IsNotHeldBeforeAnyAcknowledgment) {
  ManualClock clock;
  Lease lease(300ms);
  lease.noteSent(1, clock.now());
  EXPECT_FALSE(lease.held(clock.now()));
  EXPECT_FALSE(lease.expiry().has_value());
}

TEST(Lease, RunsFromWhenTheAcknowledgedHeartbeatWasSentNotFromTheAck) {
  ManualClock clock;
  Lease lease(300ms);
  const TimePoint sent = clock.now();
  lease.noteSent(7, sent);
  clock.advance(250ms);  // the ack is slow to come back
  lease.acknowledge(7);
  ASSERT_TRUE(lease.expiry().has_value());
  EXPECT_EQ(*lease.expiry(), sent + 300ms);
  EXPECT_TRUE(lease.held(clock.now()));
  clock.advance(50ms);
  EXPECT_FALSE(lease.held(clock.now())) << "lapses 300 ms after the send, not after the ack";
}

TEST(Lease, AStaleAckNeverShortensItAndUnknownAcksAreIgnored) {
  ManualClock clock;
  Lease lease(300ms);
  lease.noteSent(1, clock.now());
  clock.advance(100ms);
  lease.noteSent(2, clock.now());
  lease.acknowledge(2);
  const auto expiry = *lease.expiry();
  lease.acknowledge(1);  // older than what was acknowledged: forgotten
  EXPECT_EQ(*lease.expiry(), expiry);
  lease.acknowledge(99);  // never sent by this lease (a broker's stale counter)
  EXPECT_EQ(*lease.expiry(), expiry);
}

TEST(Lease, BrokerThatKeepsTalkingButStopsAcknowledgingLetsItLapse) {
  // One-way partition: the broker's heartbeats still arrive, but they acknowledge the last
  // heartbeat the broker heard, which grows no more.
  ManualClock clock;
  Lease lease(300ms);
  uint64_t seq = 0;
  lease.noteSent(++seq, clock.now());
  lease.acknowledge(seq);
  const uint64_t last_heard_by_broker = seq;
  for (int i = 0; i < 5; ++i) {
    clock.advance(100ms);
    lease.noteSent(++seq, clock.now());
    lease.acknowledge(last_heard_by_broker);
  }
  EXPECT_FALSE(lease.held(clock.now()));
}

TEST(Lease, ANewDurationAppliesToLaterAcknowledgments) {
  ManualClock clock;
  Lease lease(3000ms);
  lease.setDuration(300ms);
  lease.noteSent(1, clock.now());
  lease.acknowledge(1);
  EXPECT_EQ(*lease.expiry(), clock.now() + 300ms);
  lease.revoke();
  EXPECT_FALSE(lease.held(clock.now()));
}

TEST(Lease, ARestartedCounterStartsOver) {
  ManualClock clock;
  Lease lease(300ms);
  lease.noteSent(50, clock.now());
  clock.advance(10ms);
  lease.noteSent(1, clock.now());
  lease.acknowledge(1);
  EXPECT_EQ(*lease.expiry(), clock.now() + 300ms);
}

}  // namespace
}  // namespace ccmesh::worker
