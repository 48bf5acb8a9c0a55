#include "master/lease_changes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "master/namespace.h"

namespace hafs::master {
namespace {

using Kind = MetadataLeases::Kind;

std::vector<std::string> Described(const std::vector<CachedMetadata>& changed) {
  std::vector<std::string> described;
  for (const CachedMetadata& item : changed) {
    described.push_back(item.kind == Kind::kAttr ? "attr " + std::to_string(item.inode)
                                                 : std::to_string(item.inode) + "/" + item.name);
  }
  return described;
}

class LeaseChangesTest : public ::testing::Test {
 protected:
  LeaseChangesTest() {
    wire::MknodRequest mknod;
    mknod.set_parent(kRootInode);
    mknod.set_name("f");
    mknod.set_mode(S_IFREG | 0644);
    file_ = tree_.Mknod(mknod, 1)->inode();
  }
  Namespace tree_;
  uint64_t file_ = 0;
};

TEST_F(LeaseChangesTest, AChangeNamesWhatOtherMountsMayCacheOfIt) {
  wire::Envelope unlink;
  unlink.mutable_unlink()->set_parent(kRootInode);
  unlink.mutable_unlink()->set_name("f");
  EXPECT_EQ(Described(ChangedBy(unlink, tree_)),
            (std::vector<std::string>{"1/f", "attr 1", "attr " + std::to_string(file_)}))
      << "the name, its directory's attributes and the file it named (nlink)";
  wire::Envelope create;
  create.mutable_mknod()->set_parent(kRootInode);
  create.mutable_mknod()->set_name("new");
  EXPECT_EQ(Described(ChangedBy(create, tree_)), (std::vector<std::string>{"1/new", "attr 1"}))
      << "a cached absence too";
  wire::Envelope chmod;
  chmod.mutable_set_attr()->set_inode(file_);
  EXPECT_EQ(Described(ChangedBy(chmod, tree_)), std::vector<std::string>{"attr " + std::to_string(file_)});
  wire::Envelope stat;
  stat.mutable_get_attr()->set_inode(file_);
  EXPECT_TRUE(ChangedBy(stat, tree_).empty());
}

TEST_F(LeaseChangesTest, AReplyGrantsWhatItLetsTheKernelCache) {
  MetadataLeases leases(1000);
  wire::Envelope lookup;
  lookup.mutable_lookup()->set_parent(kRootInode);
  lookup.mutable_lookup()->set_name("f");
  wire::Reply found;
  found.mutable_attr()->set_inode(file_);
  GrantLeases(5, lookup, 0, leases, &found);
  EXPECT_EQ(found.entry_lease_ms(), 1000u);
  EXPECT_EQ(found.attr_lease_ms(), 1000u);
  wire::Reply absent;
  GrantLeases(5, lookup, 0, leases, &absent);
  EXPECT_EQ(absent.entry_lease_ms(), 1000u) << "an absent name, under the directory's lease";
  EXPECT_EQ(absent.attr_lease_ms(), 0u);
  int recalled = 0;
  leases.Recall(6, kRootInode, Kind::kEntries, 10, [&](uint64_t, int64_t) { recalled++; });
  leases.Recall(6, file_, Kind::kAttr, 10, [&](uint64_t, int64_t) { recalled++; });
  EXPECT_EQ(recalled, 2);
}

}  // namespace
}  // namespace hafs::master
