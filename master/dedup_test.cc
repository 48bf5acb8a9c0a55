// Retry deduplication by (client_id, sequence) and cluster membership: live, after op-log
// replay and after checkpoint + restore.
#include <gtest/gtest.h>

#include "master/checkpoint.h"
#include "master/delegation_requests.h"
#include "master/master_state.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

using testing::Dump;
using testing::MknodEnvelope;
using testing::TempDirectory;

constexpr int64_t kNowNs = 1'700'000'000'000'000'000;

wire::Envelope WithClient(wire::Envelope envelope, uint64_t client_id, uint64_t sequence) {
  envelope.set_client_id(client_id);
  envelope.set_sequence(sequence);
  return envelope;
}

TEST(DedupTest, SameMknodTwiceCreatesOnceAndAnswersIdentically) {
  MasterState state({});
  std::vector<wire::LogRecord> records;
  wire::Envelope request = WithClient(MknodEnvelope(kRootInode, "a"), 42, 7);
  request.mutable_mknod()->set_exclusive(true);
  wire::Reply first = state.Handle(request, 1000, kNowNs, &records);
  ASSERT_EQ(first.error(), 0) << first.error_message();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].client_id(), 42u);
  EXPECT_EQ(records[0].sequence(), 7u);
  wire::Reply second = state.Handle(request, 1000, kNowNs + 5, &records);
  EXPECT_EQ(records.size(), 1u);  // nothing logged the second time
  EXPECT_EQ(second.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(state.name_space().inode_count(), 2u);
  // Another sequence is a new request: O_EXCL now fails.
  wire::Reply third = state.Handle(WithClient(request, 42, 8), 1000, kNowNs, &records);
  EXPECT_EQ(third.error(), EEXIST);
  // Without a client id nothing is deduplicated.
  wire::Reply anonymous = state.Handle(WithClient(request, 0, 7), 1000, kNowNs, &records);
  EXPECT_EQ(anonymous.error(), EEXIST);

  // Replay of the same records rebuilds the table.
  MasterState replayed({});
  for (const wire::LogRecord& record : records) ASSERT_TRUE(replayed.Replay(record).ok());
  EXPECT_EQ(Dump(replayed), Dump(state));
  std::vector<wire::LogRecord> more;
  wire::Reply after_replay = replayed.Handle(request, 1000, kNowNs, &more);
  EXPECT_TRUE(more.empty());
  EXPECT_EQ(after_replay.SerializeAsString(), first.SerializeAsString());

  // Checkpoint + restore keeps it too.
  TempDirectory directory;
  ASSERT_TRUE(WriteCheckpoint(directory.path(), state).ok());
  MasterState restored({});
  auto loaded = LoadNewestCheckpoint(directory.path(), &restored);
  ASSERT_TRUE(loaded && *loaded);
  EXPECT_EQ(Dump(restored), Dump(state));
  wire::Reply after_restore = restored.Handle(request, 1000, kNowNs, &more);
  EXPECT_TRUE(more.empty());
  EXPECT_EQ(after_restore.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(restored.recent_results().size(), 1u);
}

TEST(DedupTest, RenameAndUnlinkAreNotAppliedTwice) {
  MasterState state({});
  std::vector<wire::LogRecord> records;
  ASSERT_EQ(state.Handle(MknodEnvelope(kRootInode, "a"), 1000, kNowNs, &records).error(), 0);
  wire::Envelope rename;
  rename.mutable_rename()->set_parent(kRootInode);
  rename.mutable_rename()->set_name("a");
  rename.mutable_rename()->set_new_parent(kRootInode);
  rename.mutable_rename()->set_new_name("b");
  rename = WithClient(rename, 9, 1);
  EXPECT_EQ(state.Handle(rename, 1000, kNowNs, &records).error(), 0);
  EXPECT_EQ(state.Handle(rename, 1000, kNowNs, &records).error(), 0);  // not ENOENT
  wire::Envelope unlink;
  unlink.mutable_unlink()->set_parent(kRootInode);
  unlink.mutable_unlink()->set_name("b");
  unlink = WithClient(unlink, 9, 2);
  EXPECT_EQ(state.Handle(unlink, 1000, kNowNs, &records).error(), 0);
  EXPECT_EQ(state.Handle(unlink, 1000, kNowNs, &records).error(), 0);
  EXPECT_EQ(records.size(), 3u);
}

TEST(DedupTest, WriteLeaseIsRecordedWithItsChain) {
  MasterState state({});
  std::vector<wire::LogRecord> records;
  for (const char* uuid : {"a", "b", "c"}) {
    ASSERT_EQ(state.Handle(testing::RegisterEnvelope(uuid, {}, 1ULL << 40), 1000, kNowNs, &records).error(), 0);
  }
  uint64_t file = state.Handle(MknodEnvelope(kRootInode, "f"), 1000, kNowNs, &records).attr().inode();
  wire::Envelope lease = WithClient(testing::WriteLeaseEnvelope(file, 0, {}), 5, 1);
  wire::Reply first = state.Handle(lease, 1000, kNowNs, &records);
  ASSERT_EQ(first.error(), 0) << first.error_message();
  size_t logged = records.size();
  wire::Reply again = state.Handle(lease, 1000, kNowNs, &records);
  EXPECT_EQ(records.size(), logged);
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  // Replay: the recorded result is the full lease reply.
  MasterState replayed({});
  for (const wire::LogRecord& record : records) ASSERT_TRUE(replayed.Replay(record).ok());
  std::vector<wire::LogRecord> more;
  EXPECT_EQ(replayed.Handle(lease, 1000, kNowNs, &more).SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(Dump(replayed), Dump(state));
}

TEST(DedupTest, KeepsTheLastFewPerClientAndDropsIdleClients) {
  RecentResults table;
  wire::Reply reply;
  const uint64_t kPut = RecentResults::kPerClient + 36;
  for (uint64_t sequence = 1; sequence <= kPut; ++sequence) table.Put(1, sequence, kNowNs, reply);
  EXPECT_EQ(table.size(), RecentResults::kPerClient);
  EXPECT_EQ(table.Find(1, 36), nullptr);
  EXPECT_NE(table.Find(1, 37), nullptr);
  // A write-back batch sent again whole is found whole.
  EXPECT_GE(RecentResults::kPerClient, 2u * kMaxBatchChanges);
  table.Put(2, 1, kNowNs + RecentResults::kIdleNs + 1, reply);
  EXPECT_EQ(table.Find(1, kPut), nullptr);
  EXPECT_EQ(table.size(), 1u);
}

TEST(MembershipTest, FirstRegistrationJoinsAndQuorumIsAMajority) {
  EXPECT_EQ(MasterState::Quorum(0), 1u);
  EXPECT_EQ(MasterState::Quorum(1), 1u);
  EXPECT_EQ(MasterState::Quorum(2), 2u);
  EXPECT_EQ(MasterState::Quorum(3), 2u);
  EXPECT_EQ(MasterState::Quorum(4), 3u);
  EXPECT_EQ(MasterState::Quorum(5), 3u);

  MasterState state({});
  std::vector<wire::LogRecord> records;
  state.Handle(testing::RegisterEnvelope("a", {}, 1ULL << 40), 1000, kNowNs, &records);
  state.Handle(testing::RegisterEnvelope("a", {}, 1ULL << 40), 1000, kNowNs, &records);
  state.Handle(testing::RegisterEnvelope("b", {}, 1ULL << 40), 1000, kNowNs, &records);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[0].has_chunkserver_joined());
  EXPECT_EQ(state.members().size(), 2u);

  // A standby logs no joins: a chunkserver it does not know as a member is told to retry,
  // and once the active's join record arrived it gets the same id there.
  MasterState standby({});
  standby.set_active(false);
  std::vector<wire::LogRecord> none;
  wire::Reply reply = standby.Handle(testing::RegisterEnvelope("b", {{99, 1}}, 1ULL << 40), 1000, kNowNs, &none);
  EXPECT_EQ(reply.error(), EAGAIN);
  EXPECT_TRUE(none.empty());
  for (const wire::LogRecord& record : records) ASSERT_TRUE(standby.Replay(record).ok());
  EXPECT_EQ(standby.members().size(), 2u);
  reply = standby.Handle(testing::RegisterEnvelope("b", {{99, 1}}, 1ULL << 40), 1000, kNowNs, &none);
  EXPECT_EQ(reply.error(), 0);
  EXPECT_EQ(reply.chunkserver_id(), state.members().at("b").id);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(reply.delete_chunks_size(), 0);

  TempDirectory directory;
  ASSERT_TRUE(WriteCheckpoint(directory.path(), state).ok());
  MasterState restored({});
  ASSERT_TRUE(*LoadNewestCheckpoint(directory.path(), &restored));
  EXPECT_EQ(restored.members(), state.members());
}

}  // namespace
}  // namespace hafs::master
