#include "master/namespace.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/block_checksum.h"

namespace hafs::master {
namespace {

constexpr int64_t kNow = 1'700'000'000'000'000'000;

wire::Credentials User(uint32_t uid = 1000, uint32_t gid = 1000) {
  wire::Credentials credentials;
  credentials.set_uid(uid);
  credentials.set_gid(gid);
  return credentials;
}

class NamespaceTest : public ::testing::Test {
 protected:
  uint64_t MakeFile(uint64_t parent, const std::string& name, int64_t now = kNow) {
    wire::MknodRequest request;
    request.set_parent(parent);
    request.set_name(name);
    request.set_mode(S_IFREG | 0644);
    *request.mutable_credentials() = User();
    auto attr = ns_.Mknod(request, now);
    EXPECT_TRUE(attr.has_value()) << attr.error().ToString();
    return attr ? attr->inode() : 0;
  }
  uint64_t MakeDir(uint64_t parent, const std::string& name, uint32_t mode = 0755) {
    wire::MkdirRequest request;
    request.set_parent(parent);
    request.set_name(name);
    request.set_mode(mode);
    *request.mutable_credentials() = User();
    auto attr = ns_.Mkdir(request, kNow);
    EXPECT_TRUE(attr.has_value()) << attr.error().ToString();
    return attr ? attr->inode() : 0;
  }
  int Rename(uint64_t parent, const std::string& name, uint64_t new_parent, const std::string& new_name,
             uint32_t flags = 0) {
    wire::RenameRequest request;
    request.set_parent(parent);
    request.set_name(name);
    request.set_new_parent(new_parent);
    request.set_new_name(new_name);
    request.set_flags(flags);
    return ns_.Rename(request, kNow + 1, &freed_).error();
  }
  int Unlink(uint64_t parent, const std::string& name) {
    wire::UnlinkRequest request;
    request.set_parent(parent);
    request.set_name(name);
    return ns_.Unlink(request, kNow + 1, &freed_).error();
  }
  int Rmdir(uint64_t parent, const std::string& name) {
    wire::RmdirRequest request;
    request.set_parent(parent);
    request.set_name(name);
    return ns_.Rmdir(request, kNow + 1).error();
  }
  uint64_t Find(uint64_t parent, const std::string& name) {
    auto attr = ns_.Lookup(parent, name);
    return attr ? attr->inode() : 0;
  }
  uint32_t Nlink(uint64_t inode) { return ns_.GetAttr(inode)->nlink(); }
  Result<wire::Attr> Link(uint64_t inode, uint64_t new_parent, const std::string& new_name, int64_t now = kNow) {
    wire::LinkRequest request;
    request.set_inode(inode);
    request.set_new_parent(new_parent);
    request.set_new_name(new_name);
    return ns_.Link(request, now);
  }

  Namespace ns_;
  std::vector<uint64_t> freed_;
};

TEST_F(NamespaceTest, RootIsInodeOne) {
  auto root = ns_.GetAttr(kRootInode);
  ASSERT_TRUE(root);
  EXPECT_EQ(root->mode(), S_IFDIR | 0755u);
  EXPECT_EQ(root->uid(), 0u);
  EXPECT_EQ(root->nlink(), 2u);
}

TEST_F(NamespaceTest, CreateLookupAndTimes) {
  uint64_t file = MakeFile(kRootInode, "a", kNow + 5);
  auto attr = ns_.Lookup(kRootInode, "a");
  ASSERT_TRUE(attr);
  EXPECT_EQ(attr->inode(), file);
  EXPECT_EQ(attr->mode(), S_IFREG | 0644u);
  EXPECT_EQ(attr->uid(), 1000u);
  EXPECT_EQ(attr->nlink(), 1u);
  EXPECT_EQ(attr->mtime_ns(), kNow + 5);
  EXPECT_EQ(ns_.GetAttr(kRootInode)->mtime_ns(), kNow + 5);
  EXPECT_EQ(ns_.Lookup(kRootInode, "b").error().error(), ENOENT);
  EXPECT_EQ(ns_.Lookup(file, "x").error().error(), ENOTDIR);
  EXPECT_EQ(ns_.Lookup(kRootInode, "a/b").error().error(), EINVAL);
  EXPECT_EQ(ns_.Lookup(kRootInode, std::string(256, 'y')).error().error(), ENAMETOOLONG);
}

TEST_F(NamespaceTest, MknodExclusiveAndExisting) {
  uint64_t file = MakeFile(kRootInode, "a");
  wire::MknodRequest request;
  request.set_parent(kRootInode);
  request.set_name("a");
  request.set_mode(S_IFREG | 0600);
  EXPECT_EQ(ns_.Mknod(request, kNow)->inode(), file);
  request.set_exclusive(true);
  EXPECT_EQ(ns_.Mknod(request, kNow).error().error(), EEXIST);
}

TEST_F(NamespaceTest, NameTooLong) {
  wire::MknodRequest request;
  request.set_parent(kRootInode);
  request.set_name(std::string(256, 'x'));
  EXPECT_EQ(ns_.Mknod(request, kNow).error().error(), ENAMETOOLONG);
  request.set_name(std::string(255, 'x'));
  EXPECT_TRUE(ns_.Mknod(request, kNow));
  EXPECT_TRUE(ns_.Lookup(kRootInode, std::string(255, 'x')));
}

TEST_F(NamespaceTest, DirectoryNlinkAndRmdir) {
  uint64_t dir = MakeDir(kRootInode, "d");
  EXPECT_EQ(Nlink(kRootInode), 3u);
  EXPECT_EQ(Nlink(dir), 2u);
  MakeDir(dir, "sub");
  EXPECT_EQ(Nlink(dir), 3u);
  MakeFile(dir, "f");
  EXPECT_EQ(Nlink(dir), 3u);
  EXPECT_EQ(Rmdir(kRootInode, "d"), ENOTEMPTY);
  EXPECT_EQ(Unlink(kRootInode, "d"), EISDIR);
  EXPECT_EQ(Rmdir(dir, "f"), ENOTDIR);
  EXPECT_EQ(Unlink(dir, "f"), 0);
  EXPECT_EQ(Rmdir(dir, "sub"), 0);
  EXPECT_EQ(Nlink(dir), 2u);
  EXPECT_EQ(Rmdir(kRootInode, "d"), 0);
  EXPECT_EQ(Nlink(kRootInode), 2u);
  EXPECT_EQ(ns_.inode_count(), 1u);
}

TEST_F(NamespaceTest, SetgidDirectoryPassesGroupOn) {
  uint64_t dir = MakeDir(kRootInode, "shared", 02775);
  wire::SetAttrRequest chgrp;
  chgrp.set_inode(dir);
  chgrp.set_valid(wire::SET_ATTR_GID);
  chgrp.set_gid(50);
  ASSERT_TRUE(ns_.SetAttr(chgrp, kNow, &freed_));
  uint64_t file = MakeFile(dir, "f");
  uint64_t sub = MakeDir(dir, "sub");
  EXPECT_EQ(ns_.GetAttr(file)->gid(), 50u);
  EXPECT_EQ(ns_.GetAttr(sub)->gid(), 50u);
  EXPECT_TRUE(ns_.GetAttr(sub)->mode() & S_ISGID);
  EXPECT_FALSE(ns_.GetAttr(file)->mode() & S_ISGID);
}

TEST_F(NamespaceTest, HardLinks) {
  uint64_t file = MakeFile(kRootInode, "a");
  uint64_t dir = MakeDir(kRootInode, "d");
  auto attr = Link(file, dir, "b", kNow + 7);
  ASSERT_TRUE(attr);
  EXPECT_EQ(attr->nlink(), 2u);
  EXPECT_EQ(attr->ctime_ns(), kNow + 7);
  EXPECT_EQ(Link(file, dir, "b").error().error(), EEXIST);
  EXPECT_EQ(Link(dir, dir, "c").error().error(), EPERM);
  ASSERT_TRUE(ns_.SetChunk(file, 0, 42).ok());
  EXPECT_EQ(Unlink(kRootInode, "a"), 0);
  EXPECT_EQ(Nlink(file), 1u);
  EXPECT_TRUE(freed_.empty());
  EXPECT_EQ(Unlink(dir, "b"), 0);
  EXPECT_EQ(ns_.GetAttr(file).error().error(), ENOENT);
  EXPECT_EQ(freed_, std::vector<uint64_t>{42});
}

TEST_F(NamespaceTest, AFileIsUnderEverySubtreeHoldingOneOfItsLinksAlsoAfterACheckpoint) {
  uint64_t inside = MakeDir(kRootInode, "inside");
  uint64_t outside = MakeDir(kRootInode, "outside");
  uint64_t other = MakeDir(kRootInode, "other");
  uint64_t file = MakeFile(inside, "f");
  ASSERT_TRUE(Link(file, outside, "g"));
  EXPECT_TRUE(ns_.IsUnder(file, inside)) << "its newest link is outside, an older one inside";
  EXPECT_TRUE(ns_.IsUnder(file, outside));
  EXPECT_FALSE(ns_.IsUnder(file, other));

  Namespace restored;
  restored.Clear(kRootInode + 1);
  ASSERT_TRUE(ns_.ForEachCheckpointRecord([&](const wire::CheckpointRecord& record) {
                   return restored.Restore(record);
                 }).ok());
  EXPECT_TRUE(restored.IsUnder(file, inside));
  EXPECT_TRUE(restored.IsUnder(file, outside));

  EXPECT_EQ(Rename(inside, "f", other, "f"), 0);
  EXPECT_FALSE(ns_.IsUnder(file, inside));
  EXPECT_TRUE(ns_.IsUnder(file, other));
  EXPECT_EQ(Unlink(outside, "g"), 0);
  EXPECT_FALSE(ns_.IsUnder(file, outside)) << "an unlinked link's directory no longer holds it";
  EXPECT_TRUE(ns_.IsUnder(file, other));
}

TEST_F(NamespaceTest, ExtendedAttributesLiveWithTheirInodeAndItsCheckpoint) {
  uint64_t file = MakeFile(kRootInode, "f");
  wire::SetXattrRequest set;
  set.set_inode(file);
  set.set_name("user.color");
  set.set_value("blue");
  ASSERT_TRUE(ns_.SetXattr(set, kNow + 5).ok());
  EXPECT_EQ(ns_.GetAttr(file)->ctime_ns(), kNow + 5);
  EXPECT_TRUE(ns_.GetAttr(file)->has_xattrs());
  EXPECT_FALSE(ns_.GetAttr(kRootInode)->has_xattrs());

  Namespace restored;
  restored.Clear(kRootInode + 1);
  ASSERT_TRUE(ns_.ForEachCheckpointRecord([&](const wire::CheckpointRecord& record) {
                   return restored.Restore(record);
                 }).ok());
  wire::GetXattrRequest get;
  get.set_inode(file);
  get.set_name("user.color");
  wire::Reply reply;
  ASSERT_TRUE(restored.GetXattr(get, &reply).ok());
  EXPECT_EQ(reply.xattr_value(), "blue");

  EXPECT_EQ(Unlink(kRootInode, "f"), 0);
  uint64_t again = MakeFile(kRootInode, "g");
  EXPECT_FALSE(ns_.GetAttr(again)->has_xattrs());
  get.set_inode(file);
  EXPECT_EQ(ns_.GetXattr(get, &reply).error(), ENOENT) << "gone with its inode";
}

TEST_F(NamespaceTest, Symlink) {
  wire::SymlinkRequest request;
  request.set_parent(kRootInode);
  request.set_name("l");
  request.set_target("../somewhere");
  auto attr = ns_.Symlink(request, kNow);
  ASSERT_TRUE(attr);
  EXPECT_TRUE(S_ISLNK(attr->mode()));
  EXPECT_EQ(attr->size(), 12u);
  EXPECT_EQ(*ns_.Readlink(attr->inode()), "../somewhere");
  EXPECT_EQ(ns_.Readlink(kRootInode).error().error(), EINVAL);
}

TEST_F(NamespaceTest, ReadDirPagesInNameOrder) {
  for (const char* name : {"c", "a", "e", "b", "d"}) MakeFile(kRootInode, name);
  wire::ReadDirRequest request;
  request.set_inode(kRootInode);
  request.set_max_entries(2);
  std::string names;
  while (true) {
    wire::Reply reply;
    ASSERT_TRUE(ns_.ReadDir(request, &reply).ok());
    for (const auto& entry : reply.entries()) names += entry.name();
    if (reply.end_of_directory()) break;
    request.set_after_name(reply.entries().rbegin()->name());
  }
  EXPECT_EQ(names, "abcde");
}

TEST_F(NamespaceTest, RenameFileOverFileAndAcrossDirectories) {
  uint64_t a = MakeFile(kRootInode, "a");
  uint64_t b = MakeFile(kRootInode, "b");
  ASSERT_TRUE(ns_.SetChunk(b, 0, 7).ok());
  EXPECT_EQ(Rename(kRootInode, "a", kRootInode, "b"), 0);
  EXPECT_EQ(Find(kRootInode, "b"), a);
  EXPECT_EQ(Find(kRootInode, "a"), 0u);
  EXPECT_EQ(ns_.GetAttr(b).error().error(), ENOENT);
  EXPECT_EQ(freed_, std::vector<uint64_t>{7});
  uint64_t dir = MakeDir(kRootInode, "d");
  EXPECT_EQ(Rename(kRootInode, "b", dir, "x"), 0);
  EXPECT_EQ(Find(dir, "x"), a);
  EXPECT_EQ(ns_.GetAttr(dir)->mtime_ns(), kNow + 1);
  EXPECT_EQ(ns_.GetAttr(a)->ctime_ns(), kNow + 1);
  EXPECT_EQ(Rename(kRootInode, "missing", dir, "y"), ENOENT);
}

TEST_F(NamespaceTest, RenameDirectoryRules) {
  uint64_t d1 = MakeDir(kRootInode, "d1");
  uint64_t d2 = MakeDir(kRootInode, "d2");
  uint64_t sub = MakeDir(d1, "sub");
  MakeFile(kRootInode, "f");
  EXPECT_EQ(Rename(kRootInode, "d1", sub, "x"), EINVAL);
  EXPECT_EQ(Rename(kRootInode, "d1", d1, "x"), EINVAL);
  EXPECT_EQ(Rename(kRootInode, "d1", kRootInode, "f"), ENOTDIR);
  EXPECT_EQ(Rename(kRootInode, "f", kRootInode, "d2"), EISDIR);
  EXPECT_EQ(Rename(d1, "sub", kRootInode, "d2"), 0);  // over an empty directory
  EXPECT_EQ(Find(kRootInode, "d2"), sub);
  EXPECT_EQ(ns_.GetAttr(d2).error().error(), ENOENT);
  EXPECT_EQ(Nlink(d1), 2u);
  EXPECT_EQ(Nlink(kRootInode), 4u);  // d1, d2 (now sub)
  MakeFile(sub, "g");
  EXPECT_EQ(Rename(kRootInode, "d1", kRootInode, "d2"), ENOTEMPTY);
}

TEST_F(NamespaceTest, RenameNoReplaceAndExchange) {
  uint64_t a = MakeFile(kRootInode, "a");
  uint64_t dir = MakeDir(kRootInode, "d");
  uint64_t inner = MakeDir(dir, "inner");
  EXPECT_EQ(Rename(kRootInode, "a", kRootInode, "d", 1), EEXIST);
  EXPECT_EQ(Rename(kRootInode, "a", kRootInode, "new", 2), ENOENT);
  EXPECT_EQ(Rename(kRootInode, "a", dir, "inner", 2), 0);
  EXPECT_EQ(Find(dir, "inner"), a);
  EXPECT_EQ(Find(kRootInode, "a"), inner);
  EXPECT_EQ(Nlink(dir), 2u);
  EXPECT_EQ(Nlink(kRootInode), 4u);
  EXPECT_EQ(Rename(kRootInode, "d", dir, "inner", 2), EINVAL);  // d would go into itself
  EXPECT_EQ(Rename(kRootInode, "a", kRootInode, "b", 1), 0);
}

TEST_F(NamespaceTest, TruncateDropsChunksBeyondTheEnd) {
  uint64_t file = MakeFile(kRootInode, "f");
  for (uint64_t index = 0; index < 4; ++index) ASSERT_TRUE(ns_.SetChunk(file, index, 100 + index).ok());
  ASSERT_TRUE(ns_.SetChunk(file, 70, 170).ok());  // far beyond 4 GiB
  wire::SetAttrRequest request;
  request.set_inode(file);
  request.set_valid(wire::SET_ATTR_SIZE);
  request.set_size(71 * kChunkSize);
  ASSERT_TRUE(ns_.SetAttr(request, kNow, &freed_));
  EXPECT_TRUE(freed_.empty());
  request.set_size(kChunkSize + 1);
  auto attr = ns_.SetAttr(request, kNow + 3, &freed_);
  ASSERT_TRUE(attr);
  EXPECT_EQ(attr->size(), kChunkSize + 1);
  EXPECT_EQ(attr->mtime_ns(), kNow + 3);
  EXPECT_EQ(freed_, (std::vector<uint64_t>{102, 103, 170}));
  EXPECT_EQ(**ns_.ChunkIds(file), (std::vector<uint64_t>{100, 101}));
}

TEST_F(NamespaceTest, SetAttrModeKeepsTypeAndSetsCtime) {
  uint64_t file = MakeFile(kRootInode, "f");
  wire::SetAttrRequest request;
  request.set_inode(file);
  request.set_valid(wire::SET_ATTR_MODE | wire::SET_ATTR_UID | wire::SET_ATTR_MTIME);
  request.set_mode(0600);
  request.set_uid(5);
  request.set_mtime_ns(123);
  auto attr = ns_.SetAttr(request, kNow + 9, &freed_);
  ASSERT_TRUE(attr);
  EXPECT_EQ(attr->mode(), S_IFREG | 0600u);
  EXPECT_EQ(attr->uid(), 5u);
  EXPECT_EQ(attr->mtime_ns(), 123);
  EXPECT_EQ(attr->ctime_ns(), kNow + 9);
}

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size_pages, resident_pages;
  statm >> size_pages >> resident_pages;
  return resident_pages * sysconf(_SC_PAGESIZE);
}

TEST_F(NamespaceTest, MemoryPerEmptyFile) {
  constexpr int kFiles = 100000;
  uint64_t dir = MakeDir(kRootInode, "many");
  int64_t before = ResidentBytes();
  for (int i = 0; i < kFiles; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "file-%06d", i);
    MakeFile(dir, name);
  }
  double per_file = static_cast<double>(ResidentBytes() - before) / kFiles;
  std::printf("resident memory per empty file: %.1f bytes\n", per_file);
  EXPECT_LT(per_file, 150.0);
}

}  // namespace
}  // namespace hafs::master
