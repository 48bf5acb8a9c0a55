#include "master/inode_grants.h"

#include <gtest/gtest.h>

namespace hafs::master {
namespace {

TEST(InodeGrants, NumbersAreTakenOnceAndOnlyByTheirSession) {
  InodeGrants grants;
  grants.Add(7, 100, 4);
  EXPECT_TRUE(grants.Holds(7, 100));
  EXPECT_TRUE(grants.Holds(7, 103));
  EXPECT_FALSE(grants.Holds(7, 104));
  EXPECT_FALSE(grants.Holds(8, 101));
  grants.Take(7, 101);
  EXPECT_FALSE(grants.Holds(7, 101));
  EXPECT_TRUE(grants.Holds(7, 100));
  EXPECT_TRUE(grants.Holds(7, 102));
  EXPECT_EQ(grants.Outstanding(7), 3u);
  grants.Take(7, 101);  // twice: nothing more
  EXPECT_EQ(grants.Outstanding(7), 3u);
}

TEST(InodeGrants, BoundedPerSession) {
  InodeGrants grants;
  EXPECT_FALSE(grants.MayGrant(1, 0));
  EXPECT_FALSE(grants.MayGrant(1, InodeGrants::kMaxPerGrant + 1));
  for (uint64_t first = 10; grants.MayGrant(1, InodeGrants::kMaxPerGrant); first += InodeGrants::kMaxPerGrant) {
    grants.Add(1, first, InodeGrants::kMaxPerGrant);
  }
  EXPECT_EQ(grants.Outstanding(1), InodeGrants::kMaxPerSession);
  EXPECT_TRUE(grants.MayGrant(2, 1));
}

TEST(InodeGrants, AllRestoresTheSameRanges) {
  InodeGrants grants;
  grants.Add(3, 50, 10);
  grants.Take(3, 55);
  grants.Add(4, 90, 2);
  InodeGrants restored;
  for (const wire::InodesGranted& range : grants.All()) restored.Add(range.session(), range.first(), range.count());
  for (uint64_t inode = 40; inode < 100; ++inode) {
    EXPECT_EQ(restored.Holds(3, inode), grants.Holds(3, inode)) << inode;
    EXPECT_EQ(restored.Holds(4, inode), grants.Holds(4, inode)) << inode;
  }
  EXPECT_EQ(restored.Outstanding(3), 9u);
}

}  // namespace
}  // namespace hafs::master
