#include "mount/inode_table.h"

#include <gtest/gtest.h>

namespace hafs::mount {
namespace {

wire::Attr File(uint64_t size, int64_t mtime_ns) {
  wire::Attr attr;
  attr.set_inode(7);
  attr.set_mode(0100644);
  attr.set_size(size);
  attr.set_mtime_ns(mtime_ns);
  return attr;
}

TEST(InodeTable, AChangeSeenAtALookupStillDropsThePagesAtTheNextOpen) {
  InodeTable inodes;
  wire::Attr first = File(13, 100);
  EXPECT_FALSE(inodes.ObserveEntry(&first, 1));
  EXPECT_TRUE(inodes.TakeChangedSinceOpen(7));  // not known before: nothing cached is trusted
  EXPECT_FALSE(inodes.TakeChangedSinceOpen(7));
  // Another mount rewrote it: the lookup sees it first, the open must still know.
  wire::Attr rewritten = File(22, 200);
  EXPECT_TRUE(inodes.ObserveEntry(&rewritten, 1));
  wire::Attr at_open = File(22, 200);
  EXPECT_FALSE(inodes.Observe(&at_open));
  EXPECT_TRUE(inodes.TakeChangedSinceOpen(7));
  EXPECT_FALSE(inodes.TakeChangedSinceOpen(7));  // once per change
  // The kernel forgot it (its last lookup reference went): known afresh at the next lookup.
  inodes.Forget(7, 2);
  wire::Attr again = File(22, 200);
  EXPECT_FALSE(inodes.ObserveEntry(&again, 1));
  EXPECT_TRUE(inodes.TakeChangedSinceOpen(7));
}

TEST(InodeTable, ThisMountsOwnChangeKeepsWhatTheKernelCached) {
  InodeTable inodes;
  wire::Attr made = File(0, 100);
  inodes.ObserveEntry(&made, 1);
  inodes.TakeChangedSinceOpen(7);
  wire::Attr written = File(4096, 150);
  inodes.ObserveOwn(&written);
  EXPECT_FALSE(inodes.TakeChangedSinceOpen(7));
  wire::Attr same = File(4096, 150);
  EXPECT_FALSE(inodes.Observe(&same));
}

}  // namespace
}  // namespace hafs::mount
