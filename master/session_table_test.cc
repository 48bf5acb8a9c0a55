#include "master/session_table.h"

#include <gtest/gtest.h>

namespace hafs::master {
namespace {

const SessionOwner kAlice{"alice-key", "alice", "10.0.0.1"};
const SessionOwner kMallory{"mallory-key", "mallory", "10.0.0.66"};

wire::SessionRequest Mount(const std::string& mount_point) {
  wire::SessionRequest request;
  request.set_host("host-a");
  request.set_mount_point(mount_point);
  request.set_version("1.0");
  request.set_subdir("/");
  return request;
}

TEST(SessionTableTest, AMountOpensRenewsAndEndsItsSession) {
  SessionTable sessions(3000);
  wire::Reply opened = sessions.Handle(7, Mount("/mnt/a"), kAlice, 1000, 1'700'000'000'000);
  EXPECT_EQ(opened.error(), 0);
  EXPECT_EQ(opened.session_timeout_ms(), 3000u);
  EXPECT_EQ(sessions.Handle(8, Mount("/mnt/b"), kAlice, 1500, 1'700'000'000'500).error(), 0);
  wire::Reply listed = sessions.List(2000);
  ASSERT_EQ(listed.sessions_size(), 2);
  EXPECT_EQ(listed.sessions(0).session_id(), 7u);
  EXPECT_EQ(listed.sessions(0).mount_point(), "/mnt/a");
  EXPECT_EQ(listed.sessions(0).client(), "alice");
  EXPECT_EQ(listed.sessions(0).address(), "10.0.0.1");
  EXPECT_EQ(listed.sessions(0).renewed_ms_ago(), 1000u);
  EXPECT_EQ(sessions.Handle(7, Mount("/mnt/a"), kAlice, 2000, 0).error(), 0);  // a renewal
  EXPECT_EQ(sessions.List(2000).sessions(0).renewed_ms_ago(), 0u);
  EXPECT_EQ(sessions.List(2000).sessions(0).opened_ms(), 1'700'000'000'000) << "a renewal is not a new session";

  wire::SessionRequest end = Mount("/mnt/b");
  end.set_end(true);
  EXPECT_EQ(sessions.Handle(8, end, kAlice, 2100, 0).error(), 0);
  EXPECT_EQ(sessions.size(), 1u);
}

TEST(SessionTableTest, ASessionNotRenewedWithinTheTimeoutEnds) {
  SessionTable sessions(3000);
  sessions.Handle(7, Mount("/mnt/a"), kAlice, 1000, 0);
  sessions.Handle(8, Mount("/mnt/b"), kAlice, 3000, 0);
  EXPECT_TRUE(sessions.Expire(4000).empty());
  EXPECT_EQ(sessions.Expire(4001), std::vector<uint64_t>{7});
  EXPECT_EQ(sessions.size(), 1u);
  // A mount that was only slow re-asserts its session with its next renewal.
  EXPECT_EQ(sessions.Handle(7, Mount("/mnt/a"), kAlice, 4100, 0).error(), 0);
  EXPECT_EQ(sessions.size(), 2u);
}

TEST(SessionTableTest, ASessionTheMasterDidNotKnowIsSaidToBeReopened) {
  SessionTable sessions(3000);
  EXPECT_TRUE(sessions.Handle(7, Mount("/mnt/a"), kAlice, 1000, 0).session_reopened()) << "a first open";
  EXPECT_FALSE(sessions.Handle(7, Mount("/mnt/a"), kAlice, 2000, 0).session_reopened()) << "a renewal";
  EXPECT_TRUE(sessions.OwnedBy(7, kAlice.key));
  EXPECT_FALSE(sessions.OwnedBy(7, kMallory.key));
  EXPECT_FALSE(sessions.OwnedBy(8, kAlice.key));
  sessions.Clear();  // a takeover: the new active knows none
  EXPECT_TRUE(sessions.Handle(7, Mount("/mnt/a"), kAlice, 3000, 0).session_reopened()) << "re-asserted";
}

TEST(SessionTableTest, AnotherKeyCanNeitherRenewNorEndASession) {
  SessionTable sessions(3000);
  sessions.Handle(7, Mount("/mnt/a"), kAlice, 1000, 0);
  EXPECT_EQ(sessions.Handle(7, Mount("/evil"), kMallory, 3900, 0).error(), EACCES);
  wire::SessionRequest end = Mount("/mnt/a");
  end.set_end(true);
  EXPECT_EQ(sessions.Handle(7, end, kMallory, 3900, 0).error(), EACCES);
  EXPECT_EQ(sessions.Expire(4001), std::vector<uint64_t>{7}) << "mallory's tries renewed nothing";
}

TEST(SessionTableTest, OneKeyCannotOpenSessionsWithoutBound) {
  SessionTable sessions(3000);
  for (uint64_t id = 1; id <= SessionTable::kMaxSessionsPerKey; ++id) {
    ASSERT_EQ(sessions.Handle(id, Mount("/m"), kMallory, 1000, 0).error(), 0);
  }
  EXPECT_EQ(sessions.Handle(999'999, Mount("/m"), kMallory, 1000, 0).error(), ENOSPC);
  EXPECT_EQ(sessions.Handle(999'999, Mount("/m"), kAlice, 1000, 0).error(), 0) << "other keys are not starved";
  sessions.Clear();
  EXPECT_EQ(sessions.size(), 0u);
  EXPECT_EQ(sessions.Handle(999'999, Mount("/m"), kMallory, 1000, 0).error(), 0);
}

}  // namespace
}  // namespace hafs::master
