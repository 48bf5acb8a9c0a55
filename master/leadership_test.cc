// The leadership lease against fake chunkservers on loopback.
#include "master/leadership.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/clock.h"
#include "master/fake_chunkserver.h"

namespace hafs::master {
namespace {

using testing::FakeChunkserver;

bool WaitFor(const std::function<bool()>& condition, int64_t timeout_ms = 3000) {
  int64_t deadline = MonotonicMs() + timeout_ms;
  while (MonotonicMs() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

LeadershipOptions Options(const std::string& self, const std::string& peer, int64_t lease_ms = 500) {
  LeadershipOptions options;
  options.self_address = self;
  options.peer_address = peer;
  options.lease_ms = lease_ms;
  options.campaign_retry_ms = 20;
  return options;
}

TEST(LeadershipTest, QuorumGrantedThenLost) {
  FakeChunkserver a, b, c;
  Leadership leadership(Options("m1", "m2"));
  leadership.SetMembers({{a.address()}, {b.address()}, {c.address()}});
  leadership.Start();
  EXPECT_FALSE(leadership.Trusted(MonotonicMs()));
  leadership.Hold(1);
  ASSERT_TRUE(WaitFor([&] { return leadership.Trusted(MonotonicMs()); }));
  EXPECT_EQ(a.holder(), "m1");
  // One chunkserver gone: 2 of 3 is still a quorum, renewals keep it trusted.
  c.set_silent(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_TRUE(leadership.Trusted(MonotonicMs())) << leadership.last_problem();
  // Two gone: trust ends within 0.8 x lease of the last successful renewal.
  b.set_refuse(true);
  int64_t lost_at = MonotonicMs();
  ASSERT_TRUE(WaitFor([&] { return !leadership.Trusted(MonotonicMs()); }));
  EXPECT_LE(MonotonicMs() - lost_at, 500);
  // The trusted period always ends before the chunkserver's own lease does.
  EXPECT_LT(leadership.trusted_until_ms(), lost_at + 500);
  EXPECT_NE(leadership.last_problem(), "");
}

TEST(LeadershipTest, SecondMasterWaitsForTheLeaseAndTakesAHigherEpoch) {
  FakeChunkserver a, b, c;
  std::vector<rpc::Peer> members = {{a.address()}, {b.address()}, {c.address()}};
  Leadership first(Options("m1", "m2", 400));
  first.SetMembers(members);
  first.Start();
  first.Hold(1);
  ASSERT_TRUE(WaitFor([&] { return first.Trusted(MonotonicMs()); }));
  Leadership second(Options("m2", "m1", 400));
  second.SetMembers(members);
  second.Start();
  second.SetPeerMark(Leadership::PeerMark::kMark);
  second.Hold(2);
  // While m1 renews, m2 gets nothing.
  for (int i = 0; i < 30; ++i) {
    EXPECT_FALSE(second.Trusted(MonotonicMs()));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(first.Trusted(MonotonicMs()));
  // m1 dies (no release): m2 gets the quorum once m1's leases expire, never before m1's
  // own trusted period ended.
  int64_t first_trusted_until = first.trusted_until_ms();
  first.Stop();
  ASSERT_TRUE(WaitFor([&] { return second.Trusted(MonotonicMs()); }));
  EXPECT_GE(MonotonicMs(), first_trusted_until);
  // m1 coming back at its old epoch is refused and learns the new one.
  Leadership again(Options("m1", "m2", 400));
  again.SetMembers(members);
  again.Start();
  again.Hold(1);
  EXPECT_TRUE(WaitFor([&] { return again.highest_epoch_seen() >= 2; }));
  EXPECT_FALSE(again.Trusted(MonotonicMs()));
  EXPECT_TRUE(WaitFor([&] { return second.peer_mark_confirmed(); }));
  EXPECT_EQ(a.out_of_sync(), "m1");
}

TEST(LeadershipTest, MarkedOutOfSyncAtAQuorumNeverBecomesActive) {
  FakeChunkserver a, b, c;
  a.set_out_of_sync("m2");
  b.set_out_of_sync("m2");
  Leadership leadership(Options("m2", "m1"));
  leadership.SetMembers({{a.address()}, {b.address()}, {c.address()}});
  leadership.Start();
  leadership.Hold(5);
  // Several campaign rounds (one every 100 ms) all fail and say why.
  ASSERT_TRUE(WaitFor([&] { return leadership.self_marked_out_of_sync() && !leadership.last_problem().empty(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(leadership.Trusted(MonotonicMs()));
  EXPECT_NE(leadership.last_problem().find("out of sync"), std::string::npos);
  // A mark left at a minority only (the active cleared the others) does not block it.
  b.set_out_of_sync("");
  EXPECT_TRUE(WaitFor([&] { return leadership.Trusted(MonotonicMs()); }));
}

TEST(LeadershipTest, ReleaseFreesTheLeaseAtOnce) {
  FakeChunkserver a;
  Leadership leadership(Options("m1", "m2", 5000));
  leadership.SetMembers({{a.address()}});
  leadership.Start();
  leadership.Hold(1);
  ASSERT_TRUE(WaitFor([&] { return leadership.Trusted(MonotonicMs()); }));
  leadership.Hold(0);
  EXPECT_FALSE(leadership.Trusted(MonotonicMs()));
  EXPECT_TRUE(WaitFor([&] { return a.holder().empty(); }));
}

}  // namespace
}  // namespace hafs::master
