#include "mount/dir_snapshot.h"

#include <gtest/gtest.h>


namespace hafs::mount {
namespace {

// A fake master directory of `count` names "f000".., served `page_size` at a time.
ReadDirPage FakeDirectory(int count, int page_size, std::vector<std::string>* asked_after) {
  return [=](const std::string& after_name) -> Result<wire::Reply> {
    asked_after->push_back(after_name);
    wire::Reply reply;
    int served = 0;
    for (int i = 0; i < count && served < page_size; ++i) {
      char name[16];
      std::snprintf(name, sizeof(name), "f%03d", i);
      if (name <= after_name) continue;
      wire::DirEntry* entry = reply.add_entries();
      entry->set_name(name);
      entry->mutable_attr()->set_inode(100 + i);
      served++;
    }
    reply.set_end_of_directory(served < page_size);
    return reply;
  };
}

TEST(DirSnapshot, DotsFirstThenEveryEntryInOrder) {
  std::vector<std::string> asked_after;
  auto snapshot = DirSnapshot::Take(5, 1, FakeDirectory(250, 100, &asked_after));
  ASSERT_TRUE(snapshot.has_value());
  ASSERT_EQ(snapshot->size(), 252u);
  EXPECT_EQ(snapshot->entry(0).name(), ".");
  EXPECT_EQ(snapshot->entry(0).attr().inode(), 5u);
  EXPECT_EQ(snapshot->entry(1).name(), "..");
  EXPECT_EQ(snapshot->entry(1).attr().inode(), 1u);
  EXPECT_TRUE(DirSnapshot::IsDotOrDotDot(1));
  EXPECT_FALSE(DirSnapshot::IsDotOrDotDot(2));
  for (int i = 0; i < 250; ++i) EXPECT_EQ(snapshot->entry(2 + i).attr().inode(), 100u + i);
  EXPECT_EQ(asked_after, (std::vector<std::string>{"", "f099", "f199"}));
}

TEST(DirSnapshot, ExactMultipleOfThePageEndsOnAnEmptyPage) {
  std::vector<std::string> asked_after;
  auto snapshot = DirSnapshot::Take(5, 1, FakeDirectory(200, 100, &asked_after));
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->size(), 202u);
  EXPECT_EQ(asked_after.size(), 3u);
}

TEST(DirSnapshot, EmptyDirectoryHasOnlyDots) {
  std::vector<std::string> asked_after;
  auto snapshot = DirSnapshot::Take(7, 3, FakeDirectory(0, 100, &asked_after));
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->size(), 2u);
}

TEST(DirSnapshot, MasterErrorFailsTheSnapshot) {
  auto snapshot = DirSnapshot::Take(7, 3, [](const std::string&) -> Result<wire::Reply> { return Fail(EIO, "down"); });
  ASSERT_FALSE(snapshot.has_value());
  EXPECT_EQ(snapshot.error().error(), EIO);
}

}  // namespace
}  // namespace hafs::mount
