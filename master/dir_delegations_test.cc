#include "master/dir_delegations.h"

#include <gtest/gtest.h>

namespace hafs::master {
namespace {

TEST(DirDelegations, OneHolderOthersRecallIt) {
  DirDelegations delegations(10'000);
  ASSERT_TRUE(delegations.Grant(1, 50, 0));
  EXPECT_TRUE(delegations.Grant(1, 50, 0));  // again: still its own
  EXPECT_FALSE(delegations.Grant(2, 50, 0));
  EXPECT_EQ(delegations.Holder(50), 1u);
  bool newly = false;
  EXPECT_EQ(delegations.Recall(50, 1, 0, &newly), 0u);  // its own holder goes on
  EXPECT_EQ(delegations.Recall(50, 2, 100, &newly), 1u);
  EXPECT_TRUE(newly);
  EXPECT_EQ(delegations.Recall(50, 2, 150, &newly), 1u);
  EXPECT_FALSE(newly);  // one recall is sent once
  EXPECT_FALSE(delegations.Grant(1, 50, 0));  // recalled: not renewed
  EXPECT_TRUE(delegations.MayChange(1, 50));
  delegations.Release(1, 50, 300);
  EXPECT_EQ(delegations.Recall(50, 2, 300, &newly), 0u);
  EXPECT_FALSE(delegations.MayChange(1, 50));
  // Not again at once (the mount that recalled it gets in first), then to anyone.
  EXPECT_FALSE(delegations.Grant(1, 50, 301));
  EXPECT_TRUE(delegations.Grant(2, 50, 300 + DirDelegations::kCoolingMs));
}

TEST(DirDelegations, AHungHolderLosesItALeaseTimeAfterTheRecall) {
  DirDelegations delegations(1'000);
  ASSERT_TRUE(delegations.Grant(1, 50, 0));
  bool newly = false;
  delegations.Recall(50, 2, 100, &newly);
  delegations.Expire(1'099);
  EXPECT_EQ(delegations.Holder(50), 1u);
  delegations.Expire(1'100);
  EXPECT_EQ(delegations.Holder(50), 0u);
  EXPECT_FALSE(delegations.MayChange(1, 50));  // its late changes there are refused
  EXPECT_FALSE(delegations.Grant(1, 60, 1'200)) << "a hung holder gets none for a while";
  EXPECT_TRUE(delegations.Grant(1, 60, 1'100 + DirDelegations::kUnresponsiveMs));
}

TEST(DirDelegations, ANewActiveWaitsForTheOldDelegatingSessions) {
  DirDelegations delegations(1'000);
  delegations.StartServing({7, 8}, 0);
  EXPECT_TRUE(delegations.OldDelegationsBlock(10, 0));
  EXPECT_FALSE(delegations.OldDelegationsBlock(7, 0));  // its own requests go on
  EXPECT_TRUE(delegations.MayChange(7, 50));  // flushing what it made under the old active
  EXPECT_FALSE(delegations.MayChange(9, 50));
  delegations.Confirmed(7);
  EXPECT_TRUE(delegations.OldDelegationsBlock(10, 0));
  delegations.Confirmed(8);
  EXPECT_FALSE(delegations.OldDelegationsBlock(10, 0));
  delegations.StartServing({7}, 0);
  EXPECT_FALSE(delegations.OldDelegationsBlock(10, 1'000));  // or a lease time passed
}

TEST(DirDelegations, AnOldDelegatingSessionReachingTheNewActiveLateChangesWhatNobodyElseNamed) {
  DirDelegations delegations(1'000);
  delegations.StartServing({7, 8}, 0);
  delegations.Expire(1'000);  // a lease time: the others go on
  EXPECT_FALSE(delegations.OldDelegationsBlock(10, 1'000));
  delegations.Named(60, 10);  // another mount looked into 60 since the takeover
  delegations.Named(70, 7);   // 7 itself did in 70
  EXPECT_TRUE(delegations.MayChange(7, 50)) << "nobody else saw 50: its late change is as good as on time";
  EXPECT_FALSE(delegations.MayChange(7, 60));
  EXPECT_TRUE(delegations.MayChange(7, 70));
  EXPECT_FALSE(delegations.MayChange(8, 70));
  // Still logged as holders past the lease time: a next takeover waits for them too.
  EXPECT_FALSE(delegations.HoldersToLog(true));
  delegations.Confirmed(7);
  delegations.Forget(8);  // its session ended
  EXPECT_FALSE(delegations.MayChange(7, 50));
  EXPECT_EQ(delegations.HoldersToLog(true), std::vector<uint64_t>{});
}

TEST(DirDelegations, HoldersAreLoggedWhenTheyGrow) {
  DirDelegations delegations(1'000);
  EXPECT_FALSE(delegations.HoldersToLog(true));
  delegations.Grant(3, 50, 0);
  auto holders = delegations.HoldersToLog(false);
  ASSERT_TRUE(holders);
  EXPECT_EQ(*holders, std::vector<uint64_t>{3});
  delegations.Logged(*holders);
  delegations.Forget(3);
  EXPECT_FALSE(delegations.HoldersToLog(false));
  EXPECT_TRUE(delegations.HoldersToLog(true));
}

TEST(DirDelegations, Bounded) {
  DirDelegations delegations(1'000);
  for (uint64_t dir = 1; dir <= DirDelegations::kMaxPerSession; ++dir) ASSERT_TRUE(delegations.Grant(1, dir, 0));
  EXPECT_FALSE(delegations.Grant(1, 1'000'000, 0));
  EXPECT_TRUE(delegations.Grant(2, 1'000'000, 0));
}

}  // namespace
}  // namespace hafs::master
