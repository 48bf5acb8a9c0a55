// The leadership lease rules, its persistence and the grace after a restart, on a fake clock.
#include "chunkserver/leadership_lease.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "chunkserver/temp_dir_for_test.h"

namespace hafs {
namespace {

constexpr char kA[] = "10.0.0.1:9420";
constexpr char kB[] = "10.0.0.2:9420";

class LeadershipLeaseTest : public ::testing::Test {
 protected:
  // A lease over dir_ on the fake clock; the grace is 1000 ms.
  std::unique_ptr<LeadershipLease> Open(ChunkserverState& state) {
    LeadershipLeaseOptions options;
    options.dir = dir_.path();
    options.grace_ms = 1000;
    options.max_duration_ms = 10000;
    options.now_ms = [this] { return now_ms_.load(); };
    auto lease = LeadershipLease::Open(options, state);
    EXPECT_TRUE(lease.has_value()) << lease.error().ToString();
    return lease ? std::move(*lease) : nullptr;
  }

  static wire::Reply Ask(LeadershipLease& lease, const std::string& master, uint64_t epoch, uint32_t duration_ms,
                         const std::function<void(wire::LeadershipLeaseRequest&)>& more = {}) {
    wire::LeadershipLeaseRequest request;
    request.set_master_address(master);
    request.set_epoch(epoch);
    request.set_duration_ms(duration_ms);
    if (more) more(request);
    wire::Reply reply;
    lease.Handle(request, &reply);
    return reply;
  }

  std::string FileText() const {
    std::ifstream in(dir_.path() + "/leadership");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  TempDirForTest dir_;
  std::atomic<int64_t> now_ms_{1'000'000};
};

TEST_F(LeadershipLeaseTest, GrantRefuseExpireRenewRelease) {
  ChunkserverState state;
  auto lease = Open(state);
  ASSERT_TRUE(lease);
  EXPECT_FALSE(lease->EverGranted());

  wire::Reply reply = Ask(*lease, kA, 3, 1500);
  EXPECT_EQ(reply.error(), 0) << reply.error_message();
  EXPECT_TRUE(reply.lease_granted());
  EXPECT_EQ(reply.lease_holder(), kA);
  EXPECT_EQ(reply.highest_epoch(), 3u);
  EXPECT_EQ(state.epoch(), 3u);  // one fence
  EXPECT_TRUE(lease->EverGranted());
  EXPECT_EQ(lease->Holder(), kA);

  // Another master, even with a higher epoch, waits while A's lease is valid; the
  // highest epoch is not raised by a refused request.
  now_ms_ += 1000;
  reply = Ask(*lease, kB, 4, 1500);
  EXPECT_EQ(reply.error(), EBUSY);
  EXPECT_FALSE(reply.lease_granted());
  EXPECT_EQ(reply.lease_holder(), kA);
  EXPECT_EQ(reply.highest_epoch(), 3u);
  EXPECT_EQ(state.epoch(), 3u);

  // A renews: the lease runs 1500 ms from now, so B is still refused 1000 ms later.
  reply = Ask(*lease, kA, 3, 1500);
  EXPECT_TRUE(reply.lease_granted());
  now_ms_ += 1000;
  EXPECT_EQ(Ask(*lease, kB, 4, 1500).error(), EBUSY);
  EXPECT_EQ(lease->Holder(), kA);

  // Expired: B gets it and raises the epoch; A's lower epoch is now refused.
  now_ms_ += 501;
  EXPECT_EQ(lease->Holder(), "");
  reply = Ask(*lease, kB, 4, 1500);
  EXPECT_TRUE(reply.lease_granted());
  EXPECT_EQ(reply.lease_holder(), kB);
  EXPECT_EQ(reply.highest_epoch(), 4u);
  EXPECT_EQ(state.epoch(), 4u);
  reply = Ask(*lease, kA, 3, 1500);
  EXPECT_EQ(reply.error(), ESTALE);
  EXPECT_FALSE(reply.lease_granted());
  EXPECT_EQ(reply.highest_epoch(), 4u);
  EXPECT_EQ(reply.lease_holder(), kB);

  // Release by a non-holder changes nothing; by the holder frees the lease at once.
  reply = Ask(*lease, kA, 4, 0, [](auto& r) { r.set_release(true); });
  EXPECT_EQ(reply.error(), 0);
  EXPECT_FALSE(reply.lease_granted());
  EXPECT_EQ(reply.lease_holder(), kB);
  reply = Ask(*lease, kB, 4, 0, [](auto& r) { r.set_release(true); });
  EXPECT_EQ(reply.error(), 0);
  EXPECT_EQ(reply.lease_holder(), "");
  reply = Ask(*lease, kA, 4, 1500);
  EXPECT_TRUE(reply.lease_granted()) << reply.error_message();
  EXPECT_EQ(reply.lease_holder(), kA);
}

TEST_F(LeadershipLeaseTest, LowerEpochThanTheFenceIsRefused) {
  ChunkserverState state;
  auto lease = Open(state);
  state.AdmitEpoch(7);  // e.g. from a client's write or a master's reply
  wire::Reply reply = Ask(*lease, kA, 6, 1500);
  EXPECT_EQ(reply.error(), ESTALE);
  EXPECT_EQ(reply.highest_epoch(), 7u);
  EXPECT_TRUE(Ask(*lease, kA, 7, 1500).lease_granted());
}

TEST_F(LeadershipLeaseTest, AnEpochFarAboveWhatWasLearnedIsRefusedAndNotPersisted) {
  ChunkserverState state;
  auto lease = Open(state);
  state.LearnEpoch(5);  // from the master's answer to a registration
  wire::Reply lie = Ask(*lease, kA, UINT64_MAX, 1500);
  EXPECT_EQ(lie.error(), EINVAL);
  EXPECT_FALSE(lie.lease_granted());
  EXPECT_EQ(lie.highest_epoch(), 5u);
  EXPECT_EQ(Ask(*lease, kA, 5 + 2 * kEpochWindow + 1, 1500).error(), EINVAL);
  // A campaign one past a fence raised a whole window by data requests is still granted.
  ASSERT_TRUE(state.Believable(5 + kEpochWindow));
  state.AdmitEpoch(5 + kEpochWindow);
  EXPECT_TRUE(Ask(*lease, kA, 5 + kEpochWindow + 1, 1500).lease_granted());
  EXPECT_EQ(state.learned_epoch(), 5 + kEpochWindow + 1);
  EXPECT_FALSE(state.Believable(kMaxEpoch + 1));
}

TEST_F(LeadershipLeaseTest, DurationIsCappedAndBadRequestsRefused) {
  ChunkserverState state;
  auto lease = Open(state);
  EXPECT_TRUE(Ask(*lease, kA, 1, 3'600'000).lease_granted());
  now_ms_ += 10001;
  EXPECT_TRUE(Ask(*lease, kB, 1, 1000).lease_granted());  // A's hour was cut to 10 s

  EXPECT_EQ(Ask(*lease, "", 1, 1000).error(), EINVAL);
  EXPECT_EQ(Ask(*lease, "a b:1", 1, 1000).error(), EINVAL);
  now_ms_ += 1001;
  EXPECT_EQ(Ask(*lease, kA, 1, 0).error(), EINVAL);  // a grant needs a duration
  EXPECT_EQ(Ask(*lease, kA, 1, 100, [](auto& r) {
              r.set_mark_out_of_sync(kB);
              r.set_clear_out_of_sync(true);
            }).error(),
            EINVAL);
}

TEST_F(LeadershipLeaseTest, MarkAndClearOnlyByTheHolderAndPersisted) {
  ChunkserverState state;
  {
    auto lease = Open(state);
    ASSERT_TRUE(Ask(*lease, kA, 5, 1500).lease_granted());
    // B does not hold the lease: it may not mark A.
    wire::Reply refused = Ask(*lease, kB, 5, 1500, [](auto& r) { r.set_mark_out_of_sync(kA); });
    EXPECT_EQ(refused.error(), EBUSY);
    EXPECT_EQ(refused.out_of_sync_master(), "");
    wire::Reply marked = Ask(*lease, kA, 5, 1500, [](auto& r) { r.set_mark_out_of_sync(kB); });
    EXPECT_TRUE(marked.lease_granted());
    EXPECT_EQ(marked.out_of_sync_master(), kB);
    EXPECT_EQ(marked.out_of_sync_epoch(), 5u);
    EXPECT_NE(FileText().find(std::string("out_of_sync_master ") + kB), std::string::npos) << FileText();
  }
  {
    // Restart: the mark and the epoch are back, and the fence with them.
    ChunkserverState restarted;
    auto lease = Open(restarted);
    EXPECT_EQ(lease->OutOfSyncMaster(), kB);
    EXPECT_EQ(lease->OutOfSyncEpoch(), 5u);
    EXPECT_EQ(lease->HighestEpoch(), 5u);
    EXPECT_EQ(restarted.epoch(), 5u);
    EXPECT_TRUE(lease->EverGranted());
    now_ms_ += 1000;  // past the grace
    // Every reply, a refused one too, tells a candidate about the mark.
    wire::Reply stale = Ask(*lease, kB, 4, 1500);
    EXPECT_EQ(stale.error(), ESTALE);
    EXPECT_EQ(stale.out_of_sync_master(), kB);
    EXPECT_EQ(stale.out_of_sync_epoch(), 5u);
    // The marked master may not lead, even at a newer epoch with the lease free, and its
    // request cannot overwrite the mark (with a mark of its own on the other master).
    wire::Reply marked_candidate = Ask(*lease, kB, 7, 1500, [](auto& r) { r.set_mark_out_of_sync(kA); });
    EXPECT_EQ(marked_candidate.error(), EPERM);
    EXPECT_FALSE(marked_candidate.lease_granted());
    EXPECT_EQ(marked_candidate.out_of_sync_master(), kB);
    EXPECT_EQ(marked_candidate.highest_epoch(), 5u);
    wire::Reply cleared = Ask(*lease, kA, 6, 1500, [](auto& r) { r.set_clear_out_of_sync(true); });
    EXPECT_TRUE(cleared.lease_granted());
    EXPECT_EQ(cleared.out_of_sync_master(), "");
    EXPECT_EQ(cleared.highest_epoch(), 6u);
  }
  {
    ChunkserverState restarted;
    auto lease = Open(restarted);
    EXPECT_EQ(lease->OutOfSyncMaster(), "");
    EXPECT_EQ(lease->OutOfSyncEpoch(), 0u);
    EXPECT_EQ(lease->HighestEpoch(), 6u);
  }
}

TEST_F(LeadershipLeaseTest, NoGrantDuringTheGraceAfterARestart) {
  ChunkserverState state;
  {
    auto lease = Open(state);
    ASSERT_TRUE(Ask(*lease, kA, 2, 1000).lease_granted());  // the first grant writes the file
  }
  ChunkserverState restarted;
  auto lease = Open(restarted);
  wire::Reply reply = Ask(*lease, kA, 2, 1000);
  EXPECT_EQ(reply.error(), EBUSY);  // even the old holder: we forgot it
  EXPECT_FALSE(reply.lease_granted());
  EXPECT_EQ(reply.highest_epoch(), 2u);
  EXPECT_EQ(Ask(*lease, kB, 3, 1000, [](auto& r) { r.set_mark_out_of_sync(kA); }).error(), EBUSY);
  now_ms_ += 999;
  EXPECT_EQ(Ask(*lease, kB, 3, 1000).error(), EBUSY);
  now_ms_ += 1;
  EXPECT_TRUE(Ask(*lease, kB, 3, 1000).lease_granted());
  EXPECT_EQ(lease->OutOfSyncMaster(), "");
}

TEST_F(LeadershipLeaseTest, AFreshChunkserverNeedsNoGrace) {
  ChunkserverState state;
  auto lease = Open(state);
  EXPECT_TRUE(Ask(*lease, kA, 1, 1000).lease_granted());
}

TEST_F(LeadershipLeaseTest, DamagedFileRefusesToStart) {
  ChunkserverState state;
  {
    auto lease = Open(state);
    ASSERT_TRUE(Ask(*lease, kA, 12, 1000).lease_granted());
  }
  std::string text = FileText();
  size_t at = text.find("12");
  ASSERT_NE(at, std::string::npos);
  text[at] = '9';
  std::ofstream(dir_.path() + "/leadership", std::ios::trunc) << text;
  LeadershipLeaseOptions options;
  options.dir = dir_.path();
  auto lease = LeadershipLease::Open(options, state);
  ASSERT_FALSE(lease.has_value());
  EXPECT_EQ(lease.error().error(), EBADMSG);
  EXPECT_NE(lease.error().message().find("leadership"), std::string::npos);
}

}  // namespace
}  // namespace hafs
