#include "mount/squash.h"

#include <fcntl.h>
#include <gtest/gtest.h>

namespace hafs::mount {
namespace {

wire::Attr File(uint32_t uid, uint32_t gid, uint32_t mode) {
  wire::Attr attr;
  attr.set_uid(uid);
  attr.set_gid(gid);
  attr.set_mode(0100000 | mode);
  return attr;
}

TEST(SquashTest, RootSquashChecksRootAsTheAnonymousUser) {
  Squashing root_squash{1, 65534, 65534};
  EXPECT_FALSE(SquashedMayOpen(root_squash, 0, File(0, 0, 0644), O_WRONLY));
  EXPECT_FALSE(SquashedMayOpen(root_squash, 0, File(0, 0, 0644), O_RDWR));
  EXPECT_TRUE(SquashedMayOpen(root_squash, 0, File(0, 0, 0644), O_RDONLY));
  EXPECT_FALSE(SquashedMayOpen(root_squash, 0, File(1000, 1000, 0600), O_RDONLY));
  EXPECT_TRUE(SquashedMayOpen(root_squash, 0, File(65534, 0, 0600), O_RDWR)) << "the anonymous user's own file";
  EXPECT_TRUE(SquashedMayOpen(root_squash, 0, File(0, 65534, 0660), O_WRONLY)) << "its group's";
  EXPECT_TRUE(SquashedMayOpen(root_squash, 1000, File(0, 0, 0600), O_RDWR)) << "the kernel checked uid 1000";
}

TEST(SquashTest, AllSquashChecksEveryoneAndNoSquashNobody) {
  Squashing all_squash{2, 1000, 1000};
  EXPECT_FALSE(SquashedMayOpen(all_squash, 2000, File(2000, 2000, 0600), O_RDONLY));
  EXPECT_TRUE(SquashedMayOpen(all_squash, 2000, File(1000, 1000, 0600), O_RDONLY));
  EXPECT_TRUE(SquashedMayOpen(Squashing{}, 0, File(1000, 1000, 0), O_RDWR));
}

}  // namespace
}  // namespace hafs::mount
