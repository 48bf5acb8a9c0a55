#include "master/link_parents.h"

#include <gtest/gtest.h>

#include <set>

namespace hafs::master {
namespace {

std::multiset<uint64_t> All(const LinkParents& links, uint64_t inode, uint64_t primary) {
  std::multiset<uint64_t> all{primary};
  for (uint64_t other : links.Others(inode)) all.insert(other);
  return all;
}

TEST(LinkParentsTest, AFileWithOneLinkCostsNothing) {
  LinkParents links;
  uint64_t primary = 10;
  links.Moved(7, 10, 11, &primary);
  EXPECT_EQ(primary, 11u);
  links.Unlinked(7, 11, &primary);  // its last link: nothing to keep
  EXPECT_TRUE(links.Others(7).empty());
}

TEST(LinkParentsTest, EveryLinksDirectoryIsKnownThroughLinksRenamesAndUnlinks) {
  LinkParents links;
  uint64_t primary = 10;
  links.Linked(7, 20, &primary);
  links.Linked(7, 20, &primary);  // two links in one directory
  EXPECT_EQ(All(links, 7, primary), (std::multiset<uint64_t>{10, 20, 20}));
  links.Moved(7, 10, 30, &primary);
  EXPECT_EQ(All(links, 7, primary), (std::multiset<uint64_t>{30, 20, 20}));
  links.Unlinked(7, 20, &primary);
  EXPECT_EQ(All(links, 7, primary), (std::multiset<uint64_t>{30, 20}));
  links.Unlinked(7, 20, &primary);
  EXPECT_EQ(primary, 30u);
  EXPECT_TRUE(links.Others(7).empty()) << "one link left: back to Inode::parent alone";
}

TEST(LinkParentsTest, UnlinkingThePrimaryLinkNeverLeavesItNamingAnEmptiedDirectory) {
  LinkParents links;
  uint64_t primary = 10;
  links.Linked(7, 20, &primary);  // primary 20, other 10
  links.Unlinked(7, 20, &primary);
  EXPECT_EQ(primary, 10u);
  EXPECT_TRUE(links.Others(7).empty());
}

TEST(LinkParentsTest, ACheckpointsEntriesRestoreEveryLink) {
  LinkParents links;
  uint64_t primary = 0;
  links.Restored(7, 10, &primary);
  links.Restored(7, 20, &primary);
  EXPECT_EQ(All(links, 7, primary), (std::multiset<uint64_t>{10, 20}));
  links.Forget(7);
  EXPECT_TRUE(links.Others(7).empty());
}

}  // namespace
}  // namespace hafs::master
