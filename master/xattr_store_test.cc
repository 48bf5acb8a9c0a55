#include "master/xattr_store.h"

#include <gtest/gtest.h>

#include <string>

namespace hafs::master {
namespace {

TEST(XattrStoreTest, NamesFollowLinuxsNamespacesAndLimits) {
  EXPECT_TRUE(XattrStore::CheckName("user.mime_type").ok());
  EXPECT_TRUE(XattrStore::CheckName("trusted.overlay.opaque").ok());
  EXPECT_TRUE(XattrStore::CheckName("security.selinux").ok());
  EXPECT_TRUE(XattrStore::CheckName("system.posix_acl_access").ok());
  EXPECT_TRUE(XattrStore::CheckName("system.posix_acl_default").ok());
  EXPECT_EQ(XattrStore::CheckName("system.posix_acl_other").error(), EOPNOTSUPP);
  EXPECT_EQ(XattrStore::CheckName("system.nfs4_acl").error(), EOPNOTSUPP);
  EXPECT_EQ(XattrStore::CheckName("user.").error(), EOPNOTSUPP);
  EXPECT_EQ(XattrStore::CheckName("").error(), ERANGE);
  EXPECT_EQ(XattrStore::CheckName("user." + std::string(250, 'n')).error(), 0);
  EXPECT_EQ(XattrStore::CheckName("user." + std::string(251, 'n')).error(), ERANGE);
}

TEST(XattrStoreTest, CreateReplaceAndRemoveAsSetxattrHasThem) {
  XattrStore store;
  EXPECT_FALSE(store.Any(7));
  EXPECT_EQ(store.Set(7, "user.a", "1", kXattrReplace).error(), ENODATA);
  EXPECT_FALSE(store.Any(7)) << "a refused first set leaves nothing behind";
  EXPECT_TRUE(store.Set(7, "user.a", "1", kXattrCreate).ok());
  EXPECT_EQ(store.Set(7, "user.a", "2", kXattrCreate).error(), EEXIST);
  EXPECT_TRUE(store.Set(7, "user.a", "22", kXattrReplace).ok());
  EXPECT_TRUE(store.Set(7, "user.b", "", 0).ok()) << "an empty value is a value";
  EXPECT_EQ(*store.Find(7, "user.a"), "22");
  EXPECT_EQ(*store.Find(7, "user.b"), "");
  EXPECT_EQ(store.Find(7, "user.c"), nullptr);
  EXPECT_EQ(store.Names(7), (std::vector<std::string>{"user.a", "user.b"}));
  EXPECT_EQ(store.Remove(7, "user.c").error(), ENODATA);
  EXPECT_TRUE(store.Remove(7, "user.a").ok());
  EXPECT_TRUE(store.Remove(7, "user.b").ok());
  EXPECT_FALSE(store.Any(7)) << "an inode whose last attribute went costs nothing again";
  EXPECT_EQ(store.Set(7, "user.a", "1", 4).error(), EINVAL);
}

TEST(XattrStoreTest, ValuesAndInodesAreBounded) {
  XattrStore store;
  EXPECT_EQ(store.Set(7, "user.big", std::string(XattrStore::kMaxValueBytes + 1, 'v'), 0).error(), E2BIG);
  std::string value(XattrStore::kMaxValueBytes, 'v');
  int stored = 0;
  Status status;
  while ((status = store.Set(7, "user.n" + std::to_string(stored), value, 0)).ok()) ++stored;
  EXPECT_EQ(status.error(), ENOSPC);
  EXPECT_EQ(stored, 15);  // 16 x (64 KiB + name) would pass 1 MiB
  EXPECT_TRUE(store.Set(7, "user.n0", "small", 0).ok()) << "replacing with less always fits";
  store.Forget(7);
  EXPECT_FALSE(store.Any(7));
}

}  // namespace
}  // namespace hafs::master
