// `hafs maintenance` / `hafs decommission` on the master: naming a chunkserver, the rules
// between the modes, the log record and checkpoint, placement and status.
#include <gtest/gtest.h>

#include "master/checkpoint.h"
#include "master/master_state.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

constexpr int64_t kNowNs = 1'700'000'000'000'000'000;

class ChunkserverModeRequestTest : public ::testing::Test {
 protected:
  static MasterOptions Options() {
    MasterOptions options;
    options.heartbeat_timeout_ms = 5000;
    return options;
  }
  wire::Reply Call(const wire::Envelope& request, int64_t now_ms = 1000) {
    return state_.Handle(request, now_ms, kNowNs, &records_);
  }
  uint32_t Register(const std::string& uuid) {
    wire::Reply reply = Call(testing::RegisterEnvelope(uuid, {}, 100ull << 30));
    EXPECT_EQ(reply.error(), 0) << reply.error_message();
    return reply.chunkserver_id();
  }
  wire::Reply SetMode(const std::string& name, wire::ChunkserverMode mode, bool enable) {
    wire::Envelope request;
    request.mutable_chunkserver_mode()->set_chunkserver(name);
    request.mutable_chunkserver_mode()->set_mode(mode);
    request.mutable_chunkserver_mode()->set_enable(enable);
    return Call(request);
  }
  wire::ChunkserverMode ModeOf(uint32_t id) { return state_.registry().Mode(id); }
  size_t ModeRecords() const {
    return std::count_if(records_.begin(), records_.end(),
                         [](const wire::LogRecord& record) { return record.has_chunkserver_mode_changed(); });
  }

  MasterState state_{Options()};
  std::vector<wire::LogRecord> records_;
};

TEST_F(ChunkserverModeRequestTest, NamesAChunkserverByIdAddressOrUuid) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  wire::Reply reply = SetMode("2", wire::MODE_MAINTENANCE, true);
  ASSERT_EQ(reply.error(), 0) << reply.error_message();
  ASSERT_EQ(reply.chunkservers_size(), 1);
  EXPECT_EQ(reply.chunkservers(0).chunkserver_id(), 2u);
  EXPECT_EQ(reply.chunkservers(0).mode(), wire::MODE_MAINTENANCE);
  EXPECT_EQ(reply.chunkservers(0).state(), "up");
  std::string address_of_c = testing::RegisterEnvelope("c", {}, 0).register_().address();
  EXPECT_EQ(SetMode(address_of_c, wire::MODE_DECOMMISSION, true).chunkservers(0).chunkserver_id(), 3u);
  EXPECT_EQ(SetMode("a", wire::MODE_MAINTENANCE, true).chunkservers(0).chunkserver_id(), 1u);
  EXPECT_EQ(ModeOf(1), wire::MODE_MAINTENANCE);
  EXPECT_EQ(ModeOf(2), wire::MODE_MAINTENANCE);
  EXPECT_EQ(ModeOf(3), wire::MODE_DECOMMISSION);
  EXPECT_EQ(ModeRecords(), 3u);

  // The same mode again changes nothing and logs nothing.
  EXPECT_EQ(SetMode("2", wire::MODE_MAINTENANCE, true).error(), 0);
  EXPECT_EQ(ModeRecords(), 3u);
  for (const char* unknown : {"", "7", "127.0.0.1:1", "zz", "99999999999999999999"}) {
    EXPECT_EQ(SetMode(unknown, wire::MODE_MAINTENANCE, true).error(), ENOENT) << unknown;
  }
}

TEST_F(ChunkserverModeRequestTest, OneModeDoesNotQuietlyEndTheOther) {
  Register("a");
  Register("b");
  ASSERT_EQ(SetMode("1", wire::MODE_DECOMMISSION, true).error(), 0);
  EXPECT_EQ(SetMode("1", wire::MODE_MAINTENANCE, true).error(), EINVAL) << "would stop the drain";
  EXPECT_EQ(SetMode("1", wire::MODE_MAINTENANCE, false).error(), EINVAL) << "off is not a cancel";
  EXPECT_EQ(ModeOf(1), wire::MODE_DECOMMISSION);
  EXPECT_EQ(SetMode("1", wire::MODE_DECOMMISSION, false).error(), 0);
  EXPECT_EQ(ModeOf(1), wire::MODE_NORMAL);

  // Decommissioning a chunkserver in maintenance (it is not coming back) is allowed.
  ASSERT_EQ(SetMode("2", wire::MODE_MAINTENANCE, true).error(), 0);
  EXPECT_EQ(SetMode("2", wire::MODE_DECOMMISSION, false).error(), EINVAL);
  EXPECT_EQ(SetMode("2", wire::MODE_DECOMMISSION, true).error(), 0);
  EXPECT_EQ(ModeOf(2), wire::MODE_DECOMMISSION);
  EXPECT_EQ(SetMode("2", wire::MODE_NORMAL, true).error(), EINVAL);
}

TEST_F(ChunkserverModeRequestTest, ModesSurviveReplayAndCheckpoint) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  ASSERT_EQ(SetMode("1", wire::MODE_MAINTENANCE, true).error(), 0);
  ASSERT_EQ(SetMode("3", wire::MODE_DECOMMISSION, true).error(), 0);
  ASSERT_EQ(SetMode("1", wire::MODE_MAINTENANCE, false).error(), 0);
  ASSERT_EQ(SetMode("2", wire::MODE_MAINTENANCE, true).error(), 0);

  // A standby (or a restart) applying the log gets the same modes, without registrations.
  MasterState replayed{Options()};
  for (const wire::LogRecord& record : records_) ASSERT_TRUE(replayed.Replay(record).ok());
  EXPECT_EQ(testing::Dump(replayed), testing::Dump(state_));
  EXPECT_EQ(replayed.registry().Mode(1), wire::MODE_NORMAL);
  EXPECT_EQ(replayed.registry().Mode(2), wire::MODE_MAINTENANCE);
  EXPECT_EQ(replayed.registry().Mode(3), wire::MODE_DECOMMISSION);

  testing::TempDirectory directory;
  ASSERT_TRUE(WriteCheckpoint(directory.path(), state_).ok());
  MasterState restored{Options()};
  auto loaded = LoadNewestCheckpoint(directory.path(), &restored);
  ASSERT_TRUE(loaded && *loaded);
  EXPECT_EQ(testing::Dump(restored), testing::Dump(state_));
  EXPECT_EQ(restored.registry().Mode(2), wire::MODE_MAINTENANCE);
  EXPECT_EQ(restored.registry().Mode(3), wire::MODE_DECOMMISSION);

  // Members in a mode show in the status even before they register with this master.
  std::vector<wire::LogRecord> none;
  wire::Envelope status;
  status.mutable_cluster_status();
  wire::Reply reply = restored.Handle(status, 1000, kNowNs, &none);
  ASSERT_EQ(reply.chunkservers_size(), 2);
  EXPECT_EQ(reply.chunkservers(0).chunkserver_id(), 2u);
  EXPECT_EQ(reply.chunkservers(0).state(), "down");
  EXPECT_EQ(reply.chunkservers(0).mode(), wire::MODE_MAINTENANCE);
  EXPECT_EQ(reply.chunkservers(0).address(), testing::RegisterEnvelope("b", {}, 0).register_().address());
}

TEST_F(ChunkserverModeRequestTest, ADamagedModeRecordIsRefused) {
  Register("a");
  wire::LogRecord record;
  record.set_position(state_.position() + 1);
  record.mutable_chunkserver_mode_changed()->set_chunkserver_uuid("a");
  record.mutable_chunkserver_mode_changed()->set_mode(static_cast<wire::ChunkserverMode>(7));
  EXPECT_EQ(state_.Apply(record).error().error(), EINVAL);
  record.mutable_chunkserver_mode_changed()->set_chunkserver_uuid("nobody");
  record.mutable_chunkserver_mode_changed()->set_mode(wire::MODE_MAINTENANCE);
  EXPECT_EQ(state_.Apply(record).error().error(), ENOENT);
  EXPECT_EQ(ModeOf(1), wire::MODE_NORMAL);

  wire::CheckpointRecord member;
  member.mutable_member()->set_chunkserver_uuid("a");
  member.mutable_member()->set_chunkserver_id(1);
  member.mutable_member()->set_mode(static_cast<wire::ChunkserverMode>(9));
  EXPECT_EQ(state_.Restore(member).error(), EBADMSG);
}

TEST_F(ChunkserverModeRequestTest, NewChunksAvoidChunkserversInAMode) {
  for (const char* uuid : {"a", "b", "c", "d"}) Register(uuid);
  ASSERT_EQ(SetMode("1", wire::MODE_MAINTENANCE, true).error(), 0);
  ASSERT_EQ(SetMode("2", wire::MODE_DECOMMISSION, true).error(), 0);
  uint64_t file = Call(testing::MknodEnvelope(kRootInode, "f")).attr().inode();
  wire::Reply lease = Call(testing::WriteLeaseEnvelope(file, 0, {}));
  ASSERT_EQ(lease.error(), 0) << lease.error_message();
  EXPECT_EQ(testing::ChunkserverIds(lease.location()), (std::set<uint32_t>{3, 4}));

  wire::Envelope status;
  status.mutable_cluster_status();
  wire::Reply reply = Call(status);
  ASSERT_EQ(reply.chunkservers_size(), 4);
  EXPECT_EQ(reply.chunkservers(0).mode(), wire::MODE_MAINTENANCE);
  EXPECT_EQ(reply.chunkservers(1).mode(), wire::MODE_DECOMMISSION);
  EXPECT_EQ(reply.chunkservers(1).replica_count(), 0u);
  EXPECT_EQ(reply.chunkservers(2).replica_count(), 1u);
}

}  // namespace
}  // namespace hafs::master
