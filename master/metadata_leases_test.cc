#include "master/metadata_leases.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace hafs::master {
namespace {

using Kind = MetadataLeases::Kind;
using Recalled = std::vector<std::pair<uint64_t, int64_t>>;

Recalled RecallOf(MetadataLeases& leases, uint64_t origin, uint64_t inode, Kind kind, int64_t now_ms) {
  Recalled recalled;
  leases.Recall(origin, inode, kind, now_ms, [&](uint64_t session, int64_t until) { recalled.emplace_back(session, until); });
  return recalled;
}

TEST(MetadataLeasesTest, AChangeRecallsEveryOtherHolderWhoseLeaseLasts) {
  MetadataLeases leases(1000);
  EXPECT_EQ(leases.Grant(1, 10, Kind::kAttr, 0), 1000u);
  EXPECT_EQ(leases.Grant(2, 10, Kind::kAttr, 500), 1000u);
  EXPECT_EQ(leases.Grant(2, 20, Kind::kEntries, 500), 1000u);
  EXPECT_EQ(RecallOf(leases, 3, 10, Kind::kAttr, 600), (Recalled{{1, 1000}, {2, 1500}}));
  EXPECT_TRUE(RecallOf(leases, 3, 10, Kind::kAttr, 700).empty()) << "an attributes lease ends with its recall";
  EXPECT_TRUE(RecallOf(leases, 2, 20, Kind::kEntries, 700).empty()) << "not the mount that made the change";
  EXPECT_EQ(RecallOf(leases, 1, 20, Kind::kEntries, 700), (Recalled{{2, 1500}}));
  EXPECT_EQ(RecallOf(leases, 1, 20, Kind::kEntries, 800), (Recalled{{2, 1500}})) << "a directory's lease stays";
  EXPECT_TRUE(RecallOf(leases, 1, 20, Kind::kAttr, 800).empty()) << "it covers names, not the attributes";
  EXPECT_TRUE(RecallOf(leases, 1, 20, Kind::kEntries, 1500).empty()) << "ended";
}

TEST(MetadataLeasesTest, LeasesEndAndAreBoundedPerSession) {
  MetadataLeases leases(1000);
  leases.Grant(1, 10, Kind::kAttr, 0);
  leases.Grant(1, 10, Kind::kAttr, 900);  // renewed
  leases.Expire(1000);
  EXPECT_EQ(leases.size(), 1u) << "renewed: it lasts until 1900";
  leases.Expire(1900);
  EXPECT_EQ(leases.size(), 0u);
  for (uint64_t inode = 1; inode <= MetadataLeases::kMaxPerSession; ++inode) leases.Grant(7, inode, Kind::kAttr, 2000);
  EXPECT_EQ(leases.Grant(7, 0xffffff, Kind::kAttr, 2000), 0u) << "past the bound: nothing more is cached";
  EXPECT_EQ(leases.Grant(8, 0xffffff, Kind::kAttr, 2000), 1000u);
  EXPECT_EQ(MetadataLeases(0).Grant(1, 1, Kind::kAttr, 0), 0u) << "leases off";
}

TEST(MetadataLeasesTest, AnUnresponsiveSessionGetsNoLeasesForAWhile) {
  MetadataLeases leases(1000);
  leases.Unresponsive(1, 0);
  EXPECT_EQ(leases.Grant(1, 10, Kind::kAttr, 0), 1000u) << "unknown until it holds something";
  leases.Unresponsive(1, 10);
  EXPECT_EQ(leases.Grant(1, 11, Kind::kAttr, 20), 0u);
  EXPECT_EQ(leases.Grant(1, 11, Kind::kAttr, 10 + MetadataLeases::kUnresponsiveMs), 1000u);
}

TEST(MetadataLeasesTest, ANewActiveWaitsForEarlierHoldersOrOneLeaseTime) {
  MetadataLeases leases(1000);
  leases.StartServing({4, 5}, 100);
  EXPECT_GT(leases.OldLeasesUntil(200), 1100);
  EXPECT_EQ(leases.HoldersToLog(true, 200), std::nullopt) << "logged as they were";
  EXPECT_EQ(leases.OldLeasesUntil(200, [](uint64_t session) { return session == 4 || session == 5; }), 0)
      << "both excused";
  leases.Confirmed(4);
  EXPECT_NE(leases.OldLeasesUntil(200), 0);
  EXPECT_EQ(leases.HoldersToLog(true, 200), (std::vector<uint64_t>{5}));
  leases.Confirmed(5);
  EXPECT_EQ(leases.OldLeasesUntil(200), 0) << "every earlier holder dropped its cache";
  leases.StartServing({6}, 100);
  EXPECT_EQ(leases.OldLeasesUntil(1150), 0) << "or one lease time (and a twentieth) passed";
}

TEST(MetadataLeasesTest, HoldersAreLoggedWhenTheyGrowAndWhenTheyShrinkAtASweep) {
  MetadataLeases leases(1000);
  EXPECT_EQ(leases.HoldersToLog(true, 0), std::nullopt);
  leases.Grant(3, 10, Kind::kAttr, 0);
  leases.Grant(2, 10, Kind::kAttr, 0);
  auto holders = leases.HoldersToLog(false, 0);
  ASSERT_TRUE(holders);
  EXPECT_EQ(*holders, (std::vector<uint64_t>{2, 3}));
  leases.Logged(*holders);
  EXPECT_EQ(leases.HoldersToLog(true, 0), std::nullopt);
  leases.Forget(3);
  EXPECT_EQ(leases.HoldersToLog(false, 0), std::nullopt) << "a shrink waits for a sweep";
  EXPECT_EQ(leases.HoldersToLog(true, 0), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(RecallOf(leases, 1, 10, Kind::kAttr, 0) == (Recalled{{2, 1000}})) << "a forgotten session is not recalled";
}

}  // namespace
}  // namespace hafs::master
