#include "mount/inode_mapping.h"

#include <gtest/gtest.h>

namespace hafs::mount {
namespace {

TEST(InodeMapping, WholeFileSystemKeepsEveryNumber) {
  for (uint64_t mount_root : {0, 1}) {
    InodeMapping mapping(mount_root);
    for (uint64_t inode : {1, 2, 42}) {
      EXPECT_EQ(mapping.ToMaster(inode), inode);
      EXPECT_EQ(mapping.ToKernel(inode), inode);
    }
  }
}

TEST(InodeMapping, SubtreeRootIsTheKernelsRoot) {
  InodeMapping mapping(42);
  EXPECT_EQ(mapping.ToMaster(1), 42u);
  EXPECT_EQ(mapping.ToKernel(42), 1u);
}

TEST(InodeMapping, MasterRootNeverCollidesWithTheKernelsRoot) {
  InodeMapping mapping(42);
  // The master's root stands in where the subtree root's own number would have been.
  EXPECT_EQ(mapping.ToKernel(1), 42u);
  EXPECT_EQ(mapping.ToMaster(42), 1u);
}

TEST(InodeMapping, OtherInodesPassThroughAndRoundTrip) {
  InodeMapping mapping(42);
  for (uint64_t inode : {2, 41, 43, 1000000}) {
    EXPECT_EQ(mapping.ToMaster(inode), inode);
    EXPECT_EQ(mapping.ToKernel(inode), inode);
  }
  for (uint64_t inode : {1, 2, 42, 43}) EXPECT_EQ(mapping.ToKernel(mapping.ToMaster(inode)), inode);
}

}  // namespace
}  // namespace hafs::mount
