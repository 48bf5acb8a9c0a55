#include "master/op_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "master/checkpoint.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

using testing::Dump;
using testing::MknodEnvelope;
using testing::TempDirectory;

constexpr int64_t kNow = 1'700'000'000'000'000'000;

// Runs `count` mknods through `state`, appending each request's records to `log` as
// its own batch; returns where the log's records end after each batch.
std::vector<uint64_t> CreateFiles(MasterState* state, OpLog* log, int first, int count) {
  std::vector<uint64_t> sizes;
  for (int i = first; i < first + count; ++i) {
    std::vector<wire::LogRecord> records;
    wire::Reply reply = state->Handle(MknodEnvelope(kRootInode, "f" + std::to_string(i)), 0, kNow + i, &records);
    EXPECT_EQ(reply.error(), 0) << reply.error_message();
    EXPECT_TRUE(log->Append(records).ok());
    sizes.push_back(log->end_of_records());
  }
  return sizes;
}

std::string OnlySegment(const std::string& directory) {
  auto segments = ListNumberedFiles(directory, "log.");
  EXPECT_TRUE(segments && segments->size() == 1);
  return segments->back().second;
}

Result<std::unique_ptr<OpLog>> Recover(const std::string& directory, MasterState* state) {
  auto loaded = LoadNewestCheckpoint(directory, state);
  if (!loaded) return Fail(loaded.error());
  return OpLog::Open(directory, state->position(),
                     [state](const wire::LogRecord& record) { return state->Replay(record); });
}

TEST(OpLogTest, ReplayGivesTheSameState) {
  TempDirectory directory;
  MasterState live{MasterOptions{}};
  auto log = Recover(directory.path(), &live);
  ASSERT_TRUE(log) << log.error().ToString();
  std::vector<wire::LogRecord> records;
  live.StartEpoch(0, kNow, &records);
  ASSERT_TRUE((*log)->Append(records).ok());
  CreateFiles(&live, log->get(), 0, 10);
  std::vector<wire::LogRecord> more;
  wire::Envelope rename;
  rename.mutable_rename()->set_parent(kRootInode);
  rename.mutable_rename()->set_name("f3");
  rename.mutable_rename()->set_new_parent(kRootInode);
  rename.mutable_rename()->set_new_name("renamed");
  EXPECT_EQ(live.Handle(rename, 0, kNow + 100, &more).error(), 0);
  wire::Envelope failing = MknodEnvelope(kRootInode, "f4");
  failing.mutable_mknod()->set_exclusive(true);
  EXPECT_EQ(live.Handle(failing, 0, kNow + 101, &more).error(), EEXIST);
  EXPECT_EQ(more.size(), 1u);  // a failed mutation is not logged
  ASSERT_TRUE((*log)->Append(more).ok());
  log->reset();

  MasterState replayed{MasterOptions{}};
  ASSERT_TRUE(Recover(directory.path(), &replayed));
  EXPECT_EQ(replayed.position(), live.position());
  EXPECT_EQ(replayed.epoch(), 1u);
  EXPECT_EQ(Dump(replayed), Dump(live));
  EXPECT_TRUE(replayed.name_space().Lookup(kRootInode, "renamed"));
}

class TornTailTest : public ::testing::TestWithParam<bool> {};

TEST_P(TornTailTest, DamagedLastRecordIsCutAndEarlierRecordsSurvive) {
  bool flip_a_byte = GetParam();
  TempDirectory directory;
  MasterState live{MasterOptions{}};
  auto log = Recover(directory.path(), &live);
  ASSERT_TRUE(log);
  std::string segment = OnlySegment(directory.path());
  std::vector<uint64_t> sizes = CreateFiles(&live, log->get(), 0, 5);
  log->reset();
  if (flip_a_byte) {
    int fd = ::open(segment.c_str(), O_RDWR);
    char byte;
    ASSERT_EQ(::pread(fd, &byte, 1, sizes[3] + 20), 1);
    byte ^= 0x40;
    ASSERT_EQ(::pwrite(fd, &byte, 1, sizes[3] + 20), 1);
    ::close(fd);
  } else {
    ASSERT_EQ(::truncate(segment.c_str(), sizes[3] + 7), 0);
  }

  MasterState recovered{MasterOptions{}};
  auto reopened = Recover(directory.path(), &recovered);
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  EXPECT_EQ(std::filesystem::file_size(segment), sizes[3]);  // cut there (the zeros after it too)
  EXPECT_EQ(recovered.position(), 4u);
  EXPECT_TRUE(recovered.name_space().Lookup(kRootInode, "f3"));
  EXPECT_FALSE(recovered.name_space().Lookup(kRootInode, "f4"));
  // The log goes on after the cut.
  CreateFiles(&recovered, reopened->get(), 10, 1);
  reopened->reset();
  MasterState again{MasterOptions{}};
  ASSERT_TRUE(Recover(directory.path(), &again));
  EXPECT_EQ(Dump(again), Dump(recovered));
}

INSTANTIATE_TEST_SUITE_P(CutOrFlipped, TornTailTest, ::testing::Bool());

TEST(CheckpointTest, CheckpointPlusLogRoundTrip) {
  TempDirectory directory;
  MasterState live{MasterOptions{}};
  auto log = Recover(directory.path(), &live);
  ASSERT_TRUE(log);
  std::vector<wire::LogRecord> records;
  live.StartEpoch(0, kNow, &records);
  ASSERT_TRUE((*log)->Append(records).ok());
  CreateFiles(&live, log->get(), 0, 20);
  wire::Envelope mkdir;
  mkdir.mutable_mkdir()->set_parent(kRootInode);
  mkdir.mutable_mkdir()->set_name("dir");
  mkdir.mutable_mkdir()->set_mode(0700);
  records.clear();
  EXPECT_EQ(live.Handle(mkdir, 0, kNow, &records).error(), 0);
  wire::Envelope symlink;
  symlink.mutable_symlink()->set_parent(kRootInode);
  symlink.mutable_symlink()->set_name("link");
  symlink.mutable_symlink()->set_target("dir");
  EXPECT_EQ(live.Handle(symlink, 0, kNow, &records).error(), 0);
  ASSERT_TRUE((*log)->Append(records).ok());

  ASSERT_TRUE(WriteCheckpoint(directory.path(), live).ok());
  ASSERT_TRUE((*log)->StartSegment(live.position() + 1).ok());
  CreateFiles(&live, log->get(), 100, 3);
  log->reset();

  MasterState recovered{MasterOptions{}};
  auto reopened = Recover(directory.path(), &recovered);
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  EXPECT_EQ(recovered.position(), live.position());
  EXPECT_EQ(recovered.epoch(), 1u);
  EXPECT_EQ(Dump(recovered), Dump(live));
  EXPECT_EQ(*recovered.name_space().Readlink(recovered.name_space().Lookup(kRootInode, "link")->inode()), "dir");
}

TEST(CheckpointTest, CutCheckpointIsRefused) {
  TempDirectory directory;
  MasterState live{MasterOptions{}};
  std::vector<wire::LogRecord> records;
  for (int i = 0; i < 5; ++i) live.Handle(MknodEnvelope(kRootInode, "f" + std::to_string(i)), 0, kNow, &records);
  ASSERT_TRUE(WriteCheckpoint(directory.path(), live).ok());
  auto checkpoints = ListNumberedFiles(directory.path(), "checkpoint.");
  ASSERT_EQ(checkpoints->size(), 1u);
  const std::string& path = checkpoints->back().second;
  ASSERT_EQ(::truncate(path.c_str(), std::filesystem::file_size(path) - 3), 0);
  MasterState recovered{MasterOptions{}};
  auto loaded = LoadNewestCheckpoint(directory.path(), &recovered);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().error(), EBADMSG);
}

}  // namespace
}  // namespace hafs::master
