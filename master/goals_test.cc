// Replication goals: inheritance, setgoal (recursive, permissions), the checkpoint and the
// op log, and chunks that follow their file's goal (placement, status).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/block_checksum.h"
#include "master/checkpoint.h"
#include "master/master_state.h"
#include "master/namespace.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

using testing::Dump;
using testing::MknodEnvelope;

constexpr int64_t kNowNs = 1'700'000'000'000'000'000;
constexpr uint32_t kOwner = 1000;

wire::Envelope MkdirEnvelope(uint64_t parent, const std::string& name, uint32_t uid = kOwner, uint32_t mode = 0755) {
  wire::Envelope envelope;
  envelope.mutable_mkdir()->set_parent(parent);
  envelope.mutable_mkdir()->set_name(name);
  envelope.mutable_mkdir()->set_mode(mode);
  envelope.mutable_mkdir()->mutable_credentials()->set_uid(uid);
  return envelope;
}

wire::Envelope SetGoalEnvelope(uint64_t inode, uint32_t goal, bool recursive = false, uint32_t uid = kOwner) {
  wire::Envelope envelope;
  envelope.mutable_set_goal()->set_inode(inode);
  envelope.mutable_set_goal()->set_goal(goal);
  envelope.mutable_set_goal()->set_recursive(recursive);
  envelope.mutable_set_goal()->mutable_credentials()->set_uid(uid);
  return envelope;
}

class GoalsTest : public ::testing::Test {
 protected:
  static MasterOptions Options(uint32_t goal = 3) {
    MasterOptions options;
    options.goal = goal;
    options.min_write_replicas = 2;
    options.heartbeat_timeout_ms = 5000;
    options.lease_ms = 60000;
    return options;
  }
  // The root is open to every user (as root made it), so that they may create in it.
  GoalsTest() : state_(Options()) {
    state_.StartEpoch(0, kNowNs, &records_);
    wire::Envelope open_root;
    open_root.mutable_set_attr()->set_inode(kRootInode);
    open_root.mutable_set_attr()->set_valid(wire::SET_ATTR_MODE);
    open_root.mutable_set_attr()->set_mode(0777);
    Call(open_root);
  }

  wire::Reply Call(const wire::Envelope& request) {
    wire::Reply reply = state_.Handle(request, 1000, kNowNs, &records_);
    EXPECT_EQ(reply.error(), 0) << reply.error_message();
    return reply;
  }
  uint64_t Mkdir(uint64_t parent, const std::string& name, uint32_t uid = kOwner, uint32_t mode = 0755) {
    return Call(MkdirEnvelope(parent, name, uid, mode)).attr().inode();
  }
  uint64_t Mknod(uint64_t parent, const std::string& name, uint32_t uid = kOwner) {
    wire::Envelope envelope = MknodEnvelope(parent, name);
    envelope.mutable_mknod()->mutable_credentials()->set_uid(uid);
    return Call(envelope).attr().inode();
  }
  uint32_t Goal(const MasterState& state, uint64_t inode) { return *state.name_space().Goal(inode); }
  uint32_t Goal(uint64_t inode) { return Goal(state_, inode); }
  // Four chunkservers, so that goals up to four can be placed.
  void RegisterFour() {
    for (const char* uuid : {"a", "b", "c", "d"}) Call(testing::RegisterEnvelope(uuid, {}, 100ULL << 30));
  }
  // Allocates chunk 0 of `file`; its id.
  uint64_t WriteChunk(uint64_t file, wire::Reply* lease = nullptr) {
    wire::Reply reply = Call(testing::WriteLeaseEnvelope(file, 0, {}));
    if (lease) *lease = reply;
    return reply.location().chunk_id();
  }
  uint32_t ChunkGoal(MasterState& state, uint64_t chunk_id) { return state.registry().Find(chunk_id)->goal; }

  MasterState state_;
  std::vector<wire::LogRecord> records_;
};

TEST_F(GoalsTest, NewClusterLogsTheRootGoalAndReplayKeepsIt) {
  MasterState live(Options(2));
  std::vector<wire::LogRecord> records;
  live.StartEpoch(0, kNowNs, &records);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[1].has_set_goal());
  EXPECT_EQ(Goal(live, kRootInode), 2u);
  std::vector<wire::LogRecord> restart;
  live.StartEpoch(0, kNowNs, &restart);
  EXPECT_EQ(restart.size(), 1u) << "a restart says nothing more about the root";

  MasterState standby(Options(5));  // another --goal: the log wins
  for (const wire::LogRecord& record : records) ASSERT_TRUE(standby.Replay(record).ok());
  EXPECT_EQ(Goal(standby, kRootInode), 2u);
}

TEST_F(GoalsTest, NewInodesTakeTheirParentsGoal) {
  EXPECT_EQ(Goal(kRootInode), 3u);
  uint64_t dir = Mkdir(kRootInode, "dir");
  EXPECT_EQ(Goal(dir), 3u);
  Call(SetGoalEnvelope(dir, 2));
  uint64_t file = Mknod(dir, "file");
  uint64_t sub = Mkdir(dir, "sub");
  EXPECT_EQ(Goal(file), 2u);
  EXPECT_EQ(Goal(sub), 2u);
  EXPECT_EQ(Goal(Mknod(sub, "deeper")), 2u);
  EXPECT_EQ(Goal(Mknod(kRootInode, "top")), 3u);
  EXPECT_EQ(Call(SetGoalEnvelope(file, 5)).goal(), 5u);
  wire::Envelope get;
  get.mutable_get_goal()->set_inode(file);
  EXPECT_EQ(Call(get).goal(), 5u);
}

TEST_F(GoalsTest, RecursiveSetGoalChangesTheTreeAndSkipsOtherOwners) {
  uint64_t dir = Mkdir(kRootInode, "dir", kOwner, 0777);
  uint64_t mine = Mknod(dir, "mine");
  uint64_t theirs = Mknod(dir, "theirs", 2000);
  uint64_t their_dir = Mkdir(dir, "their-dir", 2000, 0777);
  uint64_t mine_inside = Mknod(their_dir, "mine-inside");
  uint64_t outside = Mknod(kRootInode, "outside");

  wire::Reply plain = Call(SetGoalEnvelope(dir, 4));
  EXPECT_EQ(plain.goal_inodes_changed(), 1u);
  EXPECT_EQ(Goal(mine), 3u) << "without -r only the directory changes";

  wire::Reply recursive = Call(SetGoalEnvelope(dir, 1, true));
  EXPECT_EQ(recursive.goal_inodes_changed(), 3u);        // dir, mine, mine-inside
  EXPECT_EQ(recursive.goal_inodes_not_permitted(), 2u);  // theirs, their-dir
  EXPECT_EQ(Goal(dir), 1u);
  EXPECT_EQ(Goal(mine), 1u);
  EXPECT_EQ(Goal(mine_inside), 1u);
  EXPECT_EQ(Goal(theirs), 3u);
  EXPECT_EQ(Goal(their_dir), 3u);
  EXPECT_EQ(Goal(outside), 3u);

  wire::Reply as_root = Call(SetGoalEnvelope(dir, 2, true, 0));
  EXPECT_EQ(as_root.goal_inodes_changed(), 5u);
  EXPECT_EQ(as_root.goal_inodes_not_permitted(), 0u);
  EXPECT_EQ(Goal(theirs), 2u);
}

TEST_F(GoalsTest, RefusedSetGoalChangesNothingAndLogsNothing) {
  uint64_t theirs = Mknod(kRootInode, "theirs", 2000);
  records_.clear();
  EXPECT_EQ(state_.Handle(SetGoalEnvelope(theirs, 1), 1000, kNowNs, &records_).error(), EPERM);
  EXPECT_EQ(state_.Handle(SetGoalEnvelope(theirs, 0), 1000, kNowNs, &records_).error(), EINVAL);
  EXPECT_EQ(state_.Handle(SetGoalEnvelope(theirs, 10, false, 0), 1000, kNowNs, &records_).error(), EINVAL);
  EXPECT_EQ(state_.Handle(SetGoalEnvelope(999, 2), 1000, kNowNs, &records_).error(), ENOENT);
  EXPECT_TRUE(records_.empty());
  EXPECT_EQ(Goal(theirs), 3u);
}

TEST_F(GoalsTest, ChunksArePlacedOnTheirFilesGoalAndFollowItsChanges) {
  RegisterFour();
  uint64_t dir = Mkdir(kRootInode, "two");
  Call(SetGoalEnvelope(dir, 2));
  uint64_t file = Mknod(dir, "file");
  wire::Reply lease;
  uint64_t chunk_id = WriteChunk(file, &lease);
  EXPECT_EQ(lease.location().replicas_size(), 2);
  EXPECT_EQ(lease.replication_goal(), 2u);
  EXPECT_EQ(ChunkGoal(state_, chunk_id), 2u);
  wire::Envelope status;
  status.mutable_cluster_status();
  EXPECT_EQ(Call(status).chunks_healthy(), 1u);

  Call(SetGoalEnvelope(dir, 4, true));
  EXPECT_EQ(ChunkGoal(state_, chunk_id), 4u);
  wire::Reply raised = Call(status);
  EXPECT_EQ(raised.chunks_under_replicated(), 1u);
  EXPECT_EQ(raised.bytes_to_copy(), 2 * kChunkSize);
  wire::Envelope info;
  info.mutable_file_info()->set_inode(file);
  EXPECT_EQ(Call(info).goal(), 4u);

  Call(SetGoalEnvelope(file, 1));
  EXPECT_EQ(ChunkGoal(state_, chunk_id), 1u);
  EXPECT_EQ(Call(status).chunks_over_replicated(), 1u);
}

TEST_F(GoalsTest, GoalOneIsWrittenWithOneReplicaDespiteMinWriteReplicas) {
  Call(testing::RegisterEnvelope("a", {}, 100ULL << 30));
  uint64_t file = Mknod(kRootInode, "single");
  Call(SetGoalEnvelope(file, 1));
  wire::Reply lease;
  WriteChunk(file, &lease);
  EXPECT_EQ(lease.location().replicas_size(), 1);
  EXPECT_EQ(lease.min_write_replicas(), 1u);
}

TEST_F(GoalsTest, ReplayAndCheckpointKeepInodeAndChunkGoals) {
  RegisterFour();
  uint64_t dir = Mkdir(kRootInode, "dir");
  uint64_t file = Mknod(dir, "file");
  uint64_t chunk_id = WriteChunk(file);
  Call(SetGoalEnvelope(dir, 5, true));
  uint64_t later = Mknod(dir, "later");

  MasterState replayed(Options(1));
  for (const wire::LogRecord& record : records_) ASSERT_TRUE(replayed.Replay(record).ok());
  EXPECT_EQ(Dump(replayed), Dump(state_));
  EXPECT_EQ(Goal(replayed, file), 5u);
  EXPECT_EQ(Goal(replayed, later), 5u);
  EXPECT_EQ(ChunkGoal(replayed, chunk_id), 5u);

  testing::TempDirectory directory;
  ASSERT_TRUE(WriteCheckpoint(directory.path(), state_).ok());
  MasterState restored(Options(1));
  auto loaded = LoadNewestCheckpoint(directory.path(), &restored);
  ASSERT_TRUE(loaded && *loaded);
  EXPECT_EQ(Dump(restored), Dump(state_));
  EXPECT_EQ(Goal(restored, kRootInode), 3u);
  EXPECT_EQ(Goal(restored, file), 5u);
  EXPECT_EQ(ChunkGoal(restored, chunk_id), 5u);
}

TEST(NamespaceGoalsTest, CheckpointWithoutGoalsGetsTheDefaultAndABadGoalIsRefused) {
  wire::CheckpointRecord record;
  record.mutable_inode()->mutable_attr()->set_inode(kRootInode);
  record.mutable_inode()->mutable_attr()->set_mode(S_IFDIR | 0755);
  Namespace restored(4);
  restored.Clear(kRootInode + 1);
  ASSERT_TRUE(restored.Restore(record).ok());
  EXPECT_EQ(*restored.Goal(kRootInode), 4u) << "goal 0: written before goals existed";

  record.mutable_inode()->set_goal(12);
  restored.Clear(kRootInode + 1);
  EXPECT_EQ(restored.Restore(record).error(), EBADMSG);
}

}  // namespace
}  // namespace hafs::master
