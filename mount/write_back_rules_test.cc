#include "mount/write_back_rules.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

namespace hafs::mount {
namespace {

wire::Attr Dir(uint32_t mode, uint32_t uid, uint32_t gid) {
  wire::Attr dir;
  dir.set_mode(S_IFDIR | mode);
  dir.set_uid(uid);
  dir.set_gid(gid);
  return dir;
}

wire::Credentials Caller(uint32_t uid, uint32_t gid, uint32_t umask = 022) {
  wire::Credentials credentials;
  credentials.set_uid(uid);
  credentials.set_gid(gid);
  credentials.set_umask(umask);
  return credentials;
}

TEST(WriteBackRules, PermissionByTheModeBitsThatApplyToTheCaller) {
  wire::Attr dir = Dir(0750, 10, 20);
  EXPECT_TRUE(MayChangeEntries(dir, Caller(10, 99)));
  EXPECT_FALSE(MayChangeEntries(dir, Caller(11, 20)));  // the group may search, not write
  EXPECT_TRUE(MaySearch(dir, Caller(11, 20)));
  wire::Credentials member = Caller(11, 99);
  member.add_groups(20);
  EXPECT_TRUE(MaySearch(dir, member));
  EXPECT_FALSE(MaySearch(dir, Caller(12, 99)));
  EXPECT_TRUE(MayChangeEntries(dir, Caller(0, 0)));
  // The owner's bits apply to the owner even when others have more.
  EXPECT_FALSE(MayChangeEntries(Dir(0577, 10, 20), Caller(10, 20)));
}

TEST(WriteBackRules, AChmodByTheOwnerKeepsTheSetgidBitOnlyInTheFilesGroup) {
  wire::Attr file = Dir(0644, 10, 20);
  file.set_mode(S_IFREG | 0644);
  EXPECT_TRUE(OwnerOrRoot(file, Caller(10, 99)));
  EXPECT_TRUE(OwnerOrRoot(file, Caller(0, 0)));
  EXPECT_FALSE(OwnerOrRoot(file, Caller(11, 20)));
  EXPECT_EQ(ChmodBits(file, S_IFREG | 02755, Caller(10, 99)), 0755u);
  EXPECT_EQ(ChmodBits(file, 02755, Caller(10, 20)), 02755u);
  wire::Credentials member = Caller(10, 99);
  member.add_groups(20);
  EXPECT_EQ(ChmodBits(file, 06755, member), 06755u);
  EXPECT_EQ(ChmodBits(file, 02755, Caller(0, 0)), 02755u);
}

TEST(WriteBackRules, AFilesBlocksAreItsBytesInTheChunksItWrote) {
  constexpr uint64_t kChunk = 64ull << 20;
  EXPECT_EQ(AllocatedBytes({}, 5000), 0u);
  EXPECT_EQ(AllocatedBytes({0}, 5000), 5000u);
  // A sparse file written only in its third chunk, ending half-way into it.
  EXPECT_EQ(AllocatedBytes({2}, 2 * kChunk + kChunk / 2), kChunk / 2);
  EXPECT_EQ(AllocatedBytes({0, 1}, 3 * kChunk), 2 * kChunk);
  EXPECT_EQ(AllocatedBytes({4}, kChunk), 0u);  // a lease past the end: nothing there yet
}

TEST(WriteBackRules, ChangesTheMasterMakesToAFileAreNamed) {
  wire::Envelope append;
  append.mutable_append()->set_inode(7);
  EXPECT_EQ(ChangedInode(append), 7u);
  wire::Envelope acl;
  acl.mutable_set_xattr()->set_inode(8);
  EXPECT_EQ(ChangedInode(acl), 8u);
  wire::Envelope read;
  read.mutable_get_attr()->set_inode(9);
  EXPECT_EQ(ChangedInode(read), 0u);
}

TEST(WriteBackRules, ANewInodeAsTheMasterMakesIt) {
  wire::Attr file = NewAttr(42, S_IFREG | 0666, Dir(0755, 0, 0), Caller(10, 20, 027), 1000);
  EXPECT_EQ(file.inode(), 42u);
  EXPECT_EQ(file.mode(), static_cast<uint32_t>(S_IFREG | 0640));
  EXPECT_EQ(file.uid(), 10u);
  EXPECT_EQ(file.gid(), 20u);
  EXPECT_EQ(file.nlink(), 1u);
  EXPECT_EQ(file.mtime_ns(), 1000);
  // A setgid directory: its group, and a directory made in it is setgid too.
  wire::Attr dir = NewAttr(43, S_IFDIR | 0777, Dir(02775, 0, 50), Caller(10, 20), 1000);
  EXPECT_EQ(dir.gid(), 50u);
  EXPECT_EQ(dir.mode(), static_cast<uint32_t>(S_IFDIR | S_ISGID | 0755));
  EXPECT_EQ(dir.nlink(), 2u);
}

TEST(WriteBackRules, WhatMustWaitForTheQueue) {
  wire::Envelope lookup;
  lookup.mutable_lookup()->set_parent(5);
  EXPECT_TRUE(Independent(lookup));
  wire::Envelope rename;
  rename.mutable_rename()->set_parent(5);
  rename.mutable_rename()->set_new_parent(6);
  EXPECT_FALSE(Independent(rename));
  std::vector<uint64_t> dirs, inodes;
  Named(rename, &dirs, &inodes);
  EXPECT_EQ(dirs, (std::vector<uint64_t>{5, 6}));
  wire::Envelope lease;
  lease.mutable_write_lease()->set_inode(9);
  EXPECT_FALSE(Independent(lease)) << "a write of a file made here needs its create there first";
  wire::Envelope getattr;
  getattr.mutable_get_attr()->set_inode(9);
  dirs.clear();
  Named(getattr, &dirs, &inodes);
  EXPECT_TRUE(dirs.empty());
  EXPECT_EQ(inodes, std::vector<uint64_t>{9});
  wire::Envelope getxattr;
  getxattr.mutable_get_xattr()->set_inode(11);
  Named(getxattr, &dirs, &inodes);
  EXPECT_EQ(inodes.back(), 11u) << "an xattr of a directory made here is asked of the master after it";
}

}  // namespace
}  // namespace hafs::mount
