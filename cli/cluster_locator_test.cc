#include "cli/cluster_locator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace hafs::cli {
namespace {

// Two ordinary mounts and a hafs mount whose mount point has spaces (escaped as \040).
std::string SampleMountinfo(const std::string& escaped_hafs_point) {
  return "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
         "25 22 0:21 / /proc rw,nosuid - proc proc rw\n"
         "40 22 0:45 / " +
         escaped_hafs_point +
         " rw,nosuid,nodev,relatime shared:30 master:2 - fuse.hafs hafs:127.0.0.1:9000,127.0.0.1:9001 "
         "rw,user_id=0,group_id=0\n";
}

TEST(ClusterLocatorTest, UnescapesOctalSequences) {
  EXPECT_EQ(UnescapeMountinfoField(R"(/mnt/my\040dir\011x\134y)"), "/mnt/my dir\tx\\y");
  EXPECT_EQ(UnescapeMountinfoField(R"(/plain)"), "/plain");
  EXPECT_EQ(UnescapeMountinfoField(R"(trailing\04)"), R"(trailing\04)");  // incomplete escape kept
}

TEST(ClusterLocatorTest, ParsesFieldsAroundOptionalTags) {
  auto mounts = ParseMountinfo(SampleMountinfo(R"(/mnt/hafs\040one)") + "garbage line\n");
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0].mount_point, "/");
  EXPECT_EQ(mounts[0].fstype, "ext4");
  EXPECT_EQ(mounts[2].mount_point, "/mnt/hafs one");
  EXPECT_EQ(mounts[2].fstype, "fuse.hafs");
  EXPECT_EQ(mounts[2].source, "hafs:127.0.0.1:9000,127.0.0.1:9001");
  EXPECT_EQ(mounts[2].device, "0:45");
}

TEST(ClusterLocatorTest, LongestWholeComponentPrefixWins) {
  std::vector<MountEntry> mounts = {
      {"/", "ext4", "/dev/vda", "252:1"}, {"/mnt/a", "fuse.hafs", "hafs:x:1", "0:40"}, {"/mnt/a/b", "fuse.hafs", "hafs:y:1", "0:41"}};
  EXPECT_EQ(FindMountContaining(mounts, "/mnt/a/b/c")->source, "hafs:y:1");
  EXPECT_EQ(FindMountContaining(mounts, "/mnt/a/bc")->source, "hafs:x:1");
  EXPECT_EQ(FindMountContaining(mounts, "/mnt/a")->source, "hafs:x:1");
  EXPECT_EQ(FindMountContaining(mounts, "/mnt/ab")->source, "/dev/vda");
}

TEST(ClusterLocatorTest, LaterMountAtSamePointHidesEarlier) {
  std::vector<MountEntry> mounts = {
      {"/", "ext4", "/dev/vda", "252:1"}, {"/mnt/a", "fuse.hafs", "hafs:x:1", "0:40"}, {"/mnt/a", "tmpfs", "tmpfs", "0:42"}};
  EXPECT_EQ(FindMountContaining(mounts, "/mnt/a/f")->fstype, "tmpfs");
}

TEST(ClusterLocatorTest, SplitsMasterLists) {
  EXPECT_EQ(SplitMasterList("a:1, b:2,,c:3 "), (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_TRUE(SplitMasterList(" , ").empty());
}

class MastersForPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "hafs cli test XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::filesystem::create_directory(dir_ + "/sub dir");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // dir_ as mountinfo writes it.
  std::string Escaped() const {
    std::string out;
    for (char c : dir_) out += c == ' ' ? std::string("\\040") : std::string(1, c);
    return out;
  }

  std::string dir_;
};

TEST_F(MastersForPathTest, FindsMastersOfTheMountHoldingThePath) {
  auto masters = MastersForPath(dir_ + "/sub dir", SampleMountinfo(Escaped()));
  ASSERT_TRUE(masters.has_value()) << masters.error().ToString();
  EXPECT_EQ(*masters, (std::vector<std::string>{"127.0.0.1:9000", "127.0.0.1:9001"}));
}

TEST(MountSourceTest, ASubtreeMountNamesItsSubdirAfterTheMasters) {
  MountSource whole = ParseMountSource("127.0.0.1:9000,127.0.0.1:9001");
  EXPECT_EQ(whole.masters, (std::vector<std::string>{"127.0.0.1:9000", "127.0.0.1:9001"}));
  EXPECT_EQ(whole.subdir, "/");
  MountSource subtree = ParseMountSource("127.0.0.1:9000,[::1]:9001:/projects/a b");
  EXPECT_EQ(subtree.masters, (std::vector<std::string>{"127.0.0.1:9000", "[::1]:9001"}));
  EXPECT_EQ(subtree.subdir, "/projects/a b");
}

TEST_F(MastersForPathTest, RelativePathsAreResolved) {
  std::string old_cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  auto masters = MastersForPath("sub dir/..", SampleMountinfo(Escaped()));
  std::filesystem::current_path(old_cwd);
  ASSERT_TRUE(masters.has_value()) << masters.error().ToString();
  EXPECT_EQ(masters->size(), 2u);
}

TEST_F(MastersForPathTest, PathOutsideHafsSaysWhatToDo) {
  auto masters = MastersForPath("/proc", SampleMountinfo(Escaped()));
  ASSERT_FALSE(masters.has_value());
  EXPECT_EQ(masters.error().error(), ENOENT);
  EXPECT_NE(masters.error().message().find("--master"), std::string::npos);
}

TEST_F(MastersForPathTest, MissingPathIsAnError) {
  auto masters = MastersForPath(dir_ + "/no such file", SampleMountinfo(Escaped()));
  ASSERT_FALSE(masters.has_value());
  EXPECT_EQ(masters.error().error(), ENOENT);
}

TEST(LocateMastersTest, FlagWinsOverMounts) {
  auto masters = LocateMasters("10.0.0.1:9000,10.0.0.2:9000", "/nonexistent");
  ASSERT_TRUE(masters.has_value());
  EXPECT_EQ(masters->front(), "10.0.0.1:9000");
  EXPECT_FALSE(LocateMasters(",", "/").has_value());
}

}  // namespace
}  // namespace hafs::cli
