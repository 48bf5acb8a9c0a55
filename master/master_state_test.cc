#include "master/master_state.h"

#include <gtest/gtest.h>

#include <set>

#include "common/clock.h"
#include "common/protocol_limits.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

using testing::MknodEnvelope;

constexpr int64_t kNowNs = 1'700'000'000'000'000'000;
constexpr uint64_t kGiB = 1ULL << 30;

class ChunkHandlingTest : public ::testing::Test {
 protected:
  ChunkHandlingTest() : state_(Options()) {}
  static MasterOptions Options() {
    MasterOptions options;
    options.goal = 3;
    options.min_write_replicas = 2;
    options.heartbeat_timeout_ms = 5000;
    options.lease_ms = 60000;
    return options;
  }

  wire::Reply Call(const wire::Envelope& request, int64_t now_ms = 1000) {
    return state_.Handle(request, now_ms, kNowNs, &records_);
  }
  uint32_t Register(const std::string& uuid, std::vector<std::pair<uint64_t, uint64_t>> chunks = {},
                    uint64_t free_bytes = 100 * kGiB, wire::Reply* reply_out = nullptr, int64_t now_ms = 1000) {
    wire::Reply reply = Call(testing::RegisterEnvelope(uuid, chunks, free_bytes), now_ms);
    EXPECT_EQ(reply.error(), 0);
    if (reply_out) *reply_out = reply;
    return reply.chunkserver_id();
  }
  wire::Reply Heartbeat(uint32_t id, int64_t now_ms = 1000) {
    return Call(testing::HeartbeatEnvelope(id, 100 * kGiB), now_ms);
  }
  uint64_t MakeFile(const std::string& name) { return Call(MknodEnvelope(kRootInode, name)).attr().inode(); }
  wire::Reply WriteLease(uint64_t inode, uint64_t index, std::vector<uint32_t> failed = {}, int64_t now_ms = 1000) {
    return Call(testing::WriteLeaseEnvelope(inode, index, failed), now_ms);
  }
  wire::Reply GetChunks(uint64_t inode, uint64_t first, uint32_t count, int64_t now_ms = 1000) {
    return Call(testing::GetChunksEnvelope(inode, first, count), now_ms);
  }
  static std::set<uint32_t> Ids(const wire::ChunkLocation& location) { return testing::ChunkserverIds(location); }

  MasterState state_;
  std::vector<wire::LogRecord> records_;
};

TEST_F(ChunkHandlingTest, WriteDoneAtCloseReleasesOnlyLeasesHeldAsGranted) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  uint64_t sequence = 0;
  auto lease = [&](uint64_t client, uint64_t index) {
    wire::Envelope request = testing::WriteLeaseEnvelope(file, index, {});
    request.set_client_id(client);
    request.set_sequence(++sequence);
    wire::Reply reply = Call(request);
    EXPECT_EQ(reply.error(), 0) << reply.error_message();
    return std::pair(reply.location().chunk_id(), reply.lease_token());
  };
  auto release = [&](uint64_t client, std::pair<uint64_t, uint64_t> held) {
    wire::Envelope request;
    request.set_client_id(client);
    request.set_sequence(++sequence);
    request.mutable_write_done()->set_inode(file);
    request.mutable_write_done()->set_end_offset(1);
    wire::LeaseToRelease* done = request.mutable_write_done()->add_release_leases();
    done->set_chunk_id(held.first);
    done->set_lease_token(held.second);
    EXPECT_EQ(Call(request).error(), 0);
    EXPECT_FALSE(records_.back().write_done().release_leases_size()) << "leases are volatile: not logged";
  };
  auto leased = [&](uint64_t chunk_id) { return state_.registry().Find(chunk_id)->lease_expiry_ms > 1000; };

  auto only = lease(7, 0);  // client 7's alone, as granted: released
  release(7, only);
  EXPECT_FALSE(leased(only.first));

  auto first = lease(7, 1);
  auto extended = lease(7, 1);  // the same client's renewal: a release of the old grant is stale
  release(7, first);
  EXPECT_TRUE(leased(first.first));
  release(7, extended);
  EXPECT_FALSE(leased(first.first));

  auto mine = lease(7, 2);
  auto theirs = lease(8, 2);  // extended for another client: shared, ends only by expiry
  release(7, mine);
  release(8, theirs);
  EXPECT_TRUE(leased(mine.first));
}

TEST_F(ChunkHandlingTest, NewChunkGetsGoalDistinctChunkserversAtVersionOne) {
  for (const char* uuid : {"a", "b", "c", "d"}) Register(uuid);
  uint64_t file = MakeFile("f");
  records_.clear();
  wire::Reply reply = WriteLease(file, 0);
  ASSERT_EQ(reply.error(), 0) << reply.error_message();
  EXPECT_NE(reply.location().chunk_id(), 0u);
  EXPECT_EQ(reply.location().chunk_version(), 1u);
  EXPECT_EQ(Ids(reply.location()).size(), 3u);
  EXPECT_EQ(reply.replication_goal(), 3u);
  EXPECT_EQ(reply.min_write_replicas(), 2u);
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_TRUE(records_[0].has_chunk_allocated());

  // Same lease, nothing failed: same version and chain, nothing logged.
  records_.clear();
  wire::Reply again = WriteLease(file, 0);
  EXPECT_EQ(again.location().chunk_version(), 1u);
  EXPECT_EQ(Ids(again.location()), Ids(reply.location()));
  EXPECT_TRUE(records_.empty());

  wire::Reply read = GetChunks(file, 0, 2);
  ASSERT_EQ(read.locations_size(), 2);
  EXPECT_EQ(read.locations(0).chunk_id(), reply.location().chunk_id());
  EXPECT_EQ(read.locations(0).replicas_size(), 3);
  EXPECT_EQ(read.locations(1).chunk_id(), 0u);  // a hole
}

TEST_F(ChunkHandlingTest, FailedReplicaIsDroppedAndVersionBumped) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  wire::Reply first = WriteLease(file, 0);
  uint64_t chunk_id = first.location().chunk_id();
  uint32_t failed = first.location().replicas(1).chunkserver_id();
  records_.clear();
  wire::Reply second = WriteLease(file, 0, {failed});
  ASSERT_EQ(second.error(), 0);
  EXPECT_EQ(second.location().chunk_version(), 2u);
  EXPECT_EQ(second.location().replicas_size(), 2);
  EXPECT_FALSE(Ids(second.location()).contains(failed));
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].chunk_version_bumped().chunk_version(), 2u);
  wire::Reply heartbeat = Heartbeat(failed);
  ASSERT_EQ(heartbeat.delete_chunks_size(), 1);
  EXPECT_EQ(heartbeat.delete_chunks(0), chunk_id);

  // Below --min-write-replicas: a clear EIO, once the chunkservers had the time to register.
  wire::Reply third = WriteLease(file, 0, {second.location().replicas(0).chunkserver_id()}, 5500);
  EXPECT_EQ(third.error(), EIO);
  EXPECT_NE(third.error_message().find("min-write-replicas"), std::string::npos);
}

TEST_F(ChunkHandlingTest, ExpiredLeaseBumpsTheVersion) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  WriteLease(file, 0, {}, 1000);
  for (uint32_t id = 1; id <= 3; ++id) Heartbeat(id, 62000);
  wire::Reply later = WriteLease(file, 0, {}, 62000);
  EXPECT_EQ(later.location().chunk_version(), 2u);
  EXPECT_EQ(later.location().replicas_size(), 3);
}

TEST_F(ChunkHandlingTest, NoChunkserversMeansEnospcOnceTheyHadTheTimeToRegister) {
  uint64_t file = MakeFile("f");
  EXPECT_EQ(WriteLease(file, 0).error(), EAGAIN) << "a new master: they may still register";
  constexpr int64_t kLater = 6000;  // past the grace period (heartbeat_timeout_ms)
  EXPECT_EQ(WriteLease(file, 0, {}, kLater).error(), ENOSPC);
  Register("a", {}, 100 * kGiB, nullptr, kLater);
  EXPECT_EQ(WriteLease(file, 0, {}, kLater).error(), ENOSPC);
  Register("b", {}, 100 * kGiB, nullptr, kLater);
  wire::Reply reply = WriteLease(file, 0, {}, kLater);
  EXPECT_EQ(reply.error(), 0);
  EXPECT_EQ(reply.location().replicas_size(), 2);
}

TEST_F(ChunkHandlingTest, SilentChunkserverIsDownAndNotHandedOut) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  WriteLease(file, 0);
  Heartbeat(1, 5500);
  Heartbeat(2, 5500);
  wire::Reply read = GetChunks(file, 0, 1, 6500);  // chunkserver 3 last heard from at 1000
  EXPECT_EQ(Ids(read.locations(0)), (std::set<uint32_t>{1, 2}));
  wire::Envelope status;
  status.mutable_cluster_status();
  wire::Reply cluster = Call(status, 6500);
  EXPECT_EQ(cluster.chunkservers(2).state(), "down");
  EXPECT_EQ(cluster.chunks_under_replicated(), 1u);
  EXPECT_EQ(cluster.masters(0).role(), "active");
  wire::Envelope info;
  info.mutable_file_info()->set_inode(file);
  wire::Reply file_info = Call(info, 6500);
  ASSERT_EQ(file_info.chunks_size(), 1);
  std::multiset<std::string> states;
  for (const auto& replica : file_info.chunks(0).replicas()) states.insert(replica.state());
  EXPECT_EQ(states, (std::multiset<std::string>{"valid", "valid", "down"}));
}

TEST_F(ChunkHandlingTest, RegisterReconcilesReportedChunks) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  WriteLease(file, 0);
  wire::Reply lease = WriteLease(file, 0, {3});  // version 2 on chunkservers 1 and 2
  uint64_t chunk_id = lease.location().chunk_id();
  ASSERT_EQ(lease.location().chunk_version(), 2u);

  // Chunkserver 3 comes back with the old version and a chunk nobody knows.
  wire::Reply reply;
  EXPECT_EQ(Register("c", {{chunk_id, 1}, {999, 1}}, 100 * kGiB, &reply), 3u);
  EXPECT_EQ(std::set<uint64_t>(reply.delete_chunks().begin(), reply.delete_chunks().end()),
            (std::set<uint64_t>{chunk_id, 999}));
  // Chunkserver 1 re-registers with the current version: still a valid replica.
  Register("a", {{chunk_id, 2}}, 100 * kGiB, &reply);
  EXPECT_EQ(reply.delete_chunks_size(), 0);
  EXPECT_EQ(Ids(GetChunks(file, 0, 1).locations(0)), (std::set<uint32_t>{1, 2}));
  // Chunkserver 2 has a newer version than the master: adopted and logged.
  records_.clear();
  Register("b", {{chunk_id, 5}});
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].chunk_version_bumped().chunk_version(), 5u);
  wire::ChunkLocation location = GetChunks(file, 0, 1).locations(0);
  EXPECT_EQ(location.chunk_version(), 5u);
  EXPECT_EQ(Ids(location), (std::set<uint32_t>{2}));
}

TEST_F(ChunkHandlingTest, UnknownHeartbeatIsEnoent) { EXPECT_EQ(Heartbeat(77).error(), ENOENT); }

TEST_F(ChunkHandlingTest, SparseFileBeyondFourGiB) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  uint64_t far_index = (8 * kGiB) / (64ULL << 20) + 3;
  wire::Reply lease = WriteLease(file, far_index);
  ASSERT_EQ(lease.error(), 0);
  wire::Reply read = GetChunks(file, far_index - 1, 2);
  EXPECT_EQ(read.locations(0).chunk_id(), 0u);
  EXPECT_EQ(read.locations(1).chunk_id(), lease.location().chunk_id());
  wire::Envelope done;
  done.mutable_write_done()->set_inode(file);
  done.mutable_write_done()->set_end_offset(8 * kGiB + 1);
  done.mutable_write_done()->set_mtime_ns(kNowNs + 1);
  wire::Reply attr = Call(done);
  EXPECT_EQ(attr.attr().size(), 8 * kGiB + 1);
  EXPECT_EQ(attr.attr().mtime_ns(), kNowNs + 1);
}

TEST_F(ChunkHandlingTest, UnlinkQueuesReplicaDeletion) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  uint64_t chunk_id = WriteLease(file, 0).location().chunk_id();
  wire::Envelope unlink;
  unlink.mutable_unlink()->set_parent(kRootInode);
  unlink.mutable_unlink()->set_name("f");
  EXPECT_EQ(Call(unlink).error(), 0);
  for (uint32_t id = 1; id <= 3; ++id) {
    wire::Reply heartbeat = Heartbeat(id);
    ASSERT_EQ(heartbeat.delete_chunks_size(), 1);
    EXPECT_EQ(heartbeat.delete_chunks(0), chunk_id);
  }
  EXPECT_TRUE(state_.registry().chunks().empty());
}

TEST_F(ChunkHandlingTest, BadReplicaReportIsCheckedByItsChunkserverAndDropsNothingAlone) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  uint64_t chunk_id = WriteLease(file, 0).location().chunk_id();
  for (uint32_t id = 1; id <= 3; ++id) {  // every replica, as forged reports would
    wire::Envelope report;
    report.mutable_report_bad_replica()->set_chunk_id(chunk_id);
    report.mutable_report_bad_replica()->set_chunkserver_id(id);
    report.mutable_report_bad_replica()->set_error(EBADMSG);
    EXPECT_EQ(Call(report).error(), 0);
    EXPECT_EQ(Call(report).error(), 0);  // twice: asked once
  }
  wire::Envelope unknown;  // a chunk nobody holds, a chunkserver that does not exist
  unknown.mutable_report_bad_replica()->set_chunk_id(chunk_id + 100);
  unknown.mutable_report_bad_replica()->set_chunkserver_id(7);
  EXPECT_EQ(Call(unknown).error(), 0);
  EXPECT_EQ(Ids(GetChunks(file, 0, 1).locations(0)), (std::set<uint32_t>{1, 2, 3}));
  for (uint32_t id = 1; id <= 3; ++id) {
    wire::Reply answer = Heartbeat(id);
    EXPECT_EQ(answer.delete_chunks_size(), 0);
    ASSERT_EQ(answer.verify_chunks_size(), 1);
    EXPECT_EQ(answer.verify_chunks(0), chunk_id);
    EXPECT_EQ(Heartbeat(id).verify_chunks_size(), 0);  // asked once
  }
  // The chunkserver found it bad: its own report drops it.
  wire::Envelope heartbeat = testing::HeartbeatEnvelope(2, 100 * kGiB);
  heartbeat.mutable_heartbeat()->add_lost_chunks()->set_chunk_id(chunk_id);
  EXPECT_EQ(Call(heartbeat).error(), 0);
  EXPECT_EQ(Ids(GetChunks(file, 0, 1).locations(0)), (std::set<uint32_t>{1, 3}));
}

TEST_F(ChunkHandlingTest, ChunkWithABadReplicaIsCorruptUntilItGainsOne) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t chunk_id = WriteLease(MakeFile("f"), 0).location().chunk_id();
  wire::Envelope status;
  status.mutable_cluster_status();
  EXPECT_EQ(Call(status).chunks_healthy(), 1u);
  wire::Envelope heartbeat = testing::HeartbeatEnvelope(2, 100 * kGiB);
  heartbeat.mutable_heartbeat()->add_lost_chunks()->set_chunk_id(chunk_id);
  EXPECT_EQ(Call(heartbeat).error(), 0);
  wire::Reply corrupt = Call(status);
  EXPECT_EQ(corrupt.chunks_corrupt(), 1u);
  EXPECT_EQ(corrupt.chunks_under_replicated(), 0u);
  // The chunkserver registers again with a good copy (as after a repair copy).
  Register("b", {{chunk_id, 1}});
  wire::Reply repaired = Call(status);
  EXPECT_EQ(repaired.chunks_corrupt(), 0u);
  EXPECT_EQ(repaired.chunks_healthy(), 1u);
}

TEST_F(ChunkHandlingTest, PlacementPrefersFreeSpace) {
  Register("a", {}, 10 * kGiB);
  Register("b", {}, 100 * kGiB);
  Register("c", {}, 90 * kGiB);
  Register("d", {}, 1 * kGiB);
  for (int i = 0; i < 5; ++i) {
    wire::Reply reply = WriteLease(MakeFile("f" + std::to_string(i)), 0);
    EXPECT_EQ(Ids(reply.location()), (std::set<uint32_t>{1, 2, 3}));
  }
}

TEST_F(ChunkHandlingTest, AfterATakeoverChunkserversRegisterAgainWithWhatTheyHold) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  uint64_t chunk_id = WriteLease(file, 0).location().chunk_id();
  // The old active trimmed a's replica; this master, then a standby, never heard of it.
  state_.registry().RequireRegistration();
  wire::Reply refused = Heartbeat(1, 2000);
  EXPECT_EQ(refused.error(), ENOENT);
  Register("a", {}, 100 * kGiB, nullptr, 2000);
  EXPECT_EQ(Heartbeat(1, 2000).error(), 0);
  EXPECT_EQ(Ids(GetChunks(file, 0, 1, 2000).locations(0)), (std::set<uint32_t>{2, 3}));
  // b keeps heartbeating without registering: refused heartbeats do not keep it up.
  for (int64_t now_ms = 2000; now_ms <= 7000; now_ms += 1000) EXPECT_EQ(Heartbeat(2, now_ms).error(), ENOENT);
  EXPECT_FALSE(state_.registry().IsUp(2, 7000));
  Register("c", {{chunk_id, 1}}, 100 * kGiB, nullptr, 7000);
  EXPECT_EQ(Ids(GetChunks(file, 0, 1, 7000).locations(0)), (std::set<uint32_t>{3}));
}

TEST_F(ChunkHandlingTest, UnknownMessageIsAnErrorReply) {
  wire::Envelope request;
  request.mutable_read_chunk();
  EXPECT_EQ(Call(request).error(), EINVAL);
  EXPECT_EQ(Call(wire::Envelope()).error(), EINVAL);
}

TEST_F(ChunkHandlingTest, StatFsCountsAFileSystemSharedByChunkserversOnce) {
  auto register_on = [&](const std::string& uuid, const std::vector<std::string>& file_systems) {
    wire::Envelope request = testing::RegisterEnvelope(uuid, {}, 100 * kGiB);
    for (const std::string& id : file_systems) {
      wire::DiskSpace::FileSystem* file_system = request.mutable_register_()->mutable_space()->add_file_systems();
      file_system->set_id(id);
      file_system->set_total_bytes(1000 * kGiB);
      file_system->set_free_bytes(400 * kGiB);
    }
    ASSERT_EQ(Call(request).error(), 0);
  };
  register_on("a", {"host1:2049"});
  register_on("b", {"host1:2049"});          // the same disk as a
  register_on("c", {"host1:2050", "host2:2049"});  // another disk, and one on another host
  Register("d");                             // names no file system: its own totals
  wire::Envelope stat_fs;
  stat_fs.mutable_stat_fs();
  wire::Reply reply = Call(stat_fs);
  EXPECT_EQ(reply.total_bytes(), 3 * 1000 * kGiB + 200 * kGiB);
  EXPECT_EQ(reply.free_bytes(), 3 * 400 * kGiB + 100 * kGiB);
}

wire::Envelope FallocateEnvelope(uint64_t inode, uint64_t offset, uint64_t length, wire::FallocateMode mode) {
  wire::Envelope envelope;
  wire::FallocateRequest* fallocate = envelope.mutable_fallocate();
  fallocate->set_inode(inode);
  fallocate->set_offset(offset);
  fallocate->set_length(length);
  fallocate->set_mode(mode);
  fallocate->set_mtime_ns(kNowNs + 5);
  return envelope;
}

TEST_F(ChunkHandlingTest, FallocateGrowsTheSizeOrReservesPastItAndATruncateDropsTheReservation) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  constexpr uint64_t kMiB = 1 << 20;
  wire::Reply reply = Call(FallocateEnvelope(file, 0, kMiB, wire::FALLOCATE_RESERVE));
  ASSERT_EQ(reply.error(), 0);
  EXPECT_EQ(reply.attr().size(), kMiB);
  EXPECT_EQ(reply.attr().mtime_ns(), kNowNs + 5);
  ASSERT_EQ(WriteLease(file, 0).error(), 0);  // the mount's part: the chunk exists
  reply = Call(FallocateEnvelope(file, kMiB, 2 * kMiB, wire::FALLOCATE_KEEP_SIZE));
  ASSERT_EQ(reply.error(), 0);
  EXPECT_EQ(reply.attr().size(), kMiB);
  EXPECT_EQ(reply.attr().reserved_end(), 3 * kMiB);
  EXPECT_EQ(reply.attr().allocated_bytes(), 3 * kMiB);
  // Logged: a replay reaches the same attributes.
  MasterState replayed(Options());
  for (const wire::LogRecord& record : records_) ASSERT_TRUE(replayed.Replay(record).ok());
  EXPECT_EQ(replayed.name_space().GetAttr(file)->reserved_end(), 3 * kMiB);
  wire::Envelope truncate;
  truncate.mutable_set_attr()->set_inode(file);
  truncate.mutable_set_attr()->set_valid(wire::SET_ATTR_SIZE);
  truncate.mutable_set_attr()->set_size(kMiB / 2);
  reply = Call(truncate);
  ASSERT_EQ(reply.error(), 0);
  EXPECT_EQ(reply.attr().reserved_end(), 0u);
  EXPECT_EQ(reply.attr().allocated_bytes(), kMiB / 2);
}

TEST_F(ChunkHandlingTest, PunchHoleDropsTheChunksItCoversWhole) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  std::vector<uint64_t> chunk_ids;
  for (uint64_t index = 0; index < 3; ++index) chunk_ids.push_back(WriteLease(file, index).location().chunk_id());
  wire::Envelope done;
  done.mutable_write_done()->set_inode(file);
  done.mutable_write_done()->set_end_offset(3 * kChunkSize);
  ASSERT_EQ(Call(done).error(), 0);
  wire::Reply reply = Call(FallocateEnvelope(file, kChunkSize / 2, 3 * kChunkSize / 2, wire::FALLOCATE_PUNCH_HOLE));
  ASSERT_EQ(reply.error(), 0);
  EXPECT_EQ(reply.attr().size(), 3 * kChunkSize);
  EXPECT_EQ(reply.attr().allocated_bytes(), 2 * kChunkSize);
  wire::Reply chunks = GetChunks(file, 0, 3);
  EXPECT_EQ(chunks.locations(0).chunk_id(), chunk_ids[0]);
  EXPECT_EQ(chunks.locations(1).chunk_id(), 0u);
  EXPECT_EQ(chunks.locations(2).chunk_id(), chunk_ids[2]);
  wire::Reply heartbeat = Heartbeat(1);
  ASSERT_EQ(heartbeat.delete_chunks_size(), 1);
  EXPECT_EQ(heartbeat.delete_chunks(0), chunk_ids[1]);
}

TEST_F(ChunkHandlingTest, FallocateRefusesBadModesRangesFilesCallersAndWhatDoesNotFit) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("f");
  EXPECT_EQ(Call(FallocateEnvelope(file, 0, 1, static_cast<wire::FallocateMode>(7))).error(), EOPNOTSUPP);
  EXPECT_EQ(Call(FallocateEnvelope(file, 0, 0, wire::FALLOCATE_RESERVE)).error(), EINVAL);
  EXPECT_EQ(Call(FallocateEnvelope(file, kMaxFileBytes, 1, wire::FALLOCATE_PUNCH_HOLE)).error(), EFBIG);
  EXPECT_EQ(Call(FallocateEnvelope(file, UINT64_MAX, UINT64_MAX, wire::FALLOCATE_KEEP_SIZE)).error(), EFBIG);
  EXPECT_EQ(Call(FallocateEnvelope(kRootInode, 0, 1, wire::FALLOCATE_RESERVE)).error(), EISDIR);
  EXPECT_EQ(Call(FallocateEnvelope(file + 100, 0, 1, wire::FALLOCATE_RESERVE)).error(), ENOENT);
  // 100 GiB free on each of three chunkservers, goal 3: 300 GiB do not fit.
  EXPECT_EQ(Call(FallocateEnvelope(file, 0, 300 * kGiB, wire::FALLOCATE_RESERVE)).error(), ENOSPC);
  wire::Envelope stranger = FallocateEnvelope(file, 0, 1, wire::FALLOCATE_RESERVE);
  stranger.mutable_fallocate()->mutable_credentials()->set_uid(1000);
  stranger.mutable_fallocate()->mutable_credentials()->set_gid(1000);
  EXPECT_EQ(Call(stranger).error(), EACCES);
  EXPECT_EQ(state_.name_space().GetAttr(file)->size(), 0u);
}

}  // namespace
}  // namespace hafs::master

namespace hafs::master {
namespace {

// An unlink the active marked keep_open_file (a mount holds the file open) leaves the file,
// its chunks and its attributes, with no name, on the active, on a standby that replays the
// log and after a checkpoint, until its ReleaseOrphan record.
TEST_F(ChunkHandlingTest, AnOpenUnlinkedFileKeepsItsChunksUntilItIsReleased) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  uint64_t file = MakeFile("open");
  uint64_t chunk_id = WriteLease(file, 0).location().chunk_id();
  ASSERT_NE(chunk_id, 0u);
  MasterState standby(Options());
  for (const wire::LogRecord& record : records_) ASSERT_TRUE(standby.Apply(record)) << record.DebugString();
  size_t shipped = records_.size();

  wire::Envelope unlink;
  unlink.mutable_unlink()->set_parent(kRootInode);
  unlink.mutable_unlink()->set_name("open");
  unlink.mutable_unlink()->set_keep_open_file(true);
  ASSERT_EQ(Call(unlink).error(), 0);
  wire::Envelope lookup;
  lookup.mutable_lookup()->set_parent(kRootInode);
  lookup.mutable_lookup()->set_name("open");
  EXPECT_EQ(Call(lookup).error(), ENOENT);
  wire::Envelope get_attr;
  get_attr.mutable_get_attr()->set_inode(file);
  EXPECT_EQ(Call(get_attr).attr().nlink(), 0u);
  EXPECT_EQ(GetChunks(file, 0, 1).locations(0).chunk_id(), chunk_id);
  EXPECT_EQ(state_.ClusterStatus(1000).open_unlinked_files(), 1u);
  wire::Envelope link;
  link.mutable_link()->set_inode(file);
  link.mutable_link()->set_new_parent(kRootInode);
  link.mutable_link()->set_new_name("back");
  EXPECT_EQ(Call(link).error(), ENOENT) << "a file that lost its last name gets none back";

  MasterState restored(Options());
  ASSERT_TRUE(state_.ForEachCheckpointRecord([&](const wire::CheckpointRecord& record) {
                      return restored.Restore(record);
                    }).ok());
  EXPECT_EQ(restored.name_space().orphans().count(file), 1u);
  EXPECT_EQ(restored.name_space().GetAttr(file)->nlink(), 0u);
  EXPECT_TRUE(restored.name_space().IsUnder(file, kRootInode)) << "its exports still admit it";

  state_.ReleaseOrphans({file}, kNowNs, &records_);
  EXPECT_EQ(Call(get_attr).error(), ENOENT);
  EXPECT_EQ(state_.registry().Find(chunk_id), nullptr);
  EXPECT_EQ(state_.ClusterStatus(1000).open_unlinked_files(), 0u);
  for (size_t i = shipped; i < records_.size(); ++i) ASSERT_TRUE(standby.Apply(records_[i]));
  EXPECT_TRUE(standby.name_space().orphans().empty());
  EXPECT_FALSE(standby.name_space().Exists(file));
  EXPECT_EQ(standby.registry().Find(chunk_id), nullptr);
}

TEST_F(ChunkHandlingTest, AFileNobodyHoldsOpenGoesAtItsLastUnlink) {
  uint64_t file = MakeFile("closed");
  wire::Envelope unlink;
  unlink.mutable_unlink()->set_parent(kRootInode);
  unlink.mutable_unlink()->set_name("closed");
  ASSERT_EQ(Call(unlink).error(), 0);
  EXPECT_FALSE(state_.name_space().Exists(file));
  EXPECT_TRUE(state_.name_space().orphans().empty());
}

TEST_F(ChunkHandlingTest, TheSessionsThatMayHoldMetadataLeasesSurviveReplayAndACheckpoint) {
  state_.LogLeaseHolders({7, 9}, {9}, kNowNs, &records_);
  EXPECT_EQ(state_.lease_holders(), (std::vector<uint64_t>{7, 9}));
  MasterState standby(Options());
  for (const wire::LogRecord& record : records_) ASSERT_TRUE(standby.Apply(record)) << record.DebugString();
  EXPECT_EQ(standby.lease_holders(), (std::vector<uint64_t>{7, 9}));
  EXPECT_EQ(standby.delegating_holders(), std::vector<uint64_t>{9});
  state_.LogLeaseHolders({9}, {}, kNowNs, &records_);
  MasterState restored(Options());
  ASSERT_TRUE(state_.ForEachCheckpointRecord([&](const wire::CheckpointRecord& record) {
                      return restored.Restore(record);
                    }).ok());
  EXPECT_EQ(restored.lease_holders(), std::vector<uint64_t>{9});
  EXPECT_TRUE(restored.delegating_holders().empty());
}

TEST_F(ChunkHandlingTest, WriteBackCreatesUseGrantedInodeNumbersOnceOnEveryMaster) {
  constexpr uint64_t kSession = 77;
  auto first = state_.GrantInodes(kSession, 4, kNowNs, &records_);
  ASSERT_TRUE(first);
  uint64_t sequence = 0;
  auto create = [&](uint64_t session, uint64_t inode, const std::string& name) {
    wire::Envelope request = MknodEnvelope(kRootInode, name);
    request.set_client_id(session);
    request.set_sequence(++sequence);
    request.mutable_mknod()->set_inode(inode);
    return state_.Handle(request, 0, kNowNs, &records_);
  };
  EXPECT_EQ(create(kSession, *first + 1, "a").attr().inode(), *first + 1);
  EXPECT_EQ(create(kSession, *first + 1, "b").error(), EACCES);  // used
  EXPECT_EQ(create(kSession + 1, *first + 2, "c").error(), EACCES);  // not its own
  EXPECT_EQ(create(kSession, state_.name_space().next_inode(), "d").error(), EACCES);
  EXPECT_NE(MakeFile("plain"), *first + 2);  // the master's own numbers go past the range
  MasterState standby(Options());
  for (const wire::LogRecord& record : records_) ASSERT_TRUE(standby.Apply(record)) << record.DebugString();
  EXPECT_TRUE(standby.inode_grants().Holds(kSession, *first + 2));
  EXPECT_FALSE(standby.inode_grants().Holds(kSession, *first + 1));
  MasterState restored(Options());
  ASSERT_TRUE(state_.ForEachCheckpointRecord([&](const wire::CheckpointRecord& record) {
                      return restored.Restore(record);
                    }).ok());
  EXPECT_EQ(restored.inode_grants().Outstanding(kSession), 3u);
  EXPECT_EQ(restored.name_space().next_inode(), state_.name_space().next_inode());
}

TEST_F(ChunkHandlingTest, ChunksPlacedAheadAreAttachedOnceByTheirSessionAndKeptFromGarbageCollection) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid);
  constexpr uint64_t kSession = 77;
  wire::Reply placed;
  state_.PlaceAhead(kSession, kRootInode, 4, 1000, kNowNs, &placed, &records_);
  ASSERT_EQ(placed.placements_size(), 4);
  EXPECT_EQ(placed.replication_goal(), 3u);
  EXPECT_EQ(placed.placements(0).chunk_version(), 1u);
  EXPECT_EQ(Ids(placed.placements(0)).size(), 3u);
  uint64_t first = placed.placements(0).chunk_id();
  // A chunkserver that registers holding one (a mount wrote it before attaching it) keeps it.
  wire::Reply registered;
  Register("a", {{first + 1, 1}}, 100 * kGiB, &registered);
  EXPECT_TRUE(registered.delete_chunks().empty());

  uint64_t file = MakeFile("f");
  uint64_t sequence = 0;
  auto attach = [&](uint64_t session, uint64_t index, uint64_t chunk_id) {
    wire::Envelope request;
    request.set_client_id(session);
    request.set_sequence(++sequence);
    request.mutable_attach_chunk()->set_inode(file);
    request.mutable_attach_chunk()->set_chunk_index(index);
    request.mutable_attach_chunk()->set_chunk_id(chunk_id);
    return Call(request);
  };
  EXPECT_EQ(attach(kSession + 1, 0, first).error(), EACCES);  // another session's
  EXPECT_EQ(attach(kSession, 0, first + 100).error(), EACCES);  // never placed
  wire::Reply attached = attach(kSession, 0, first);
  ASSERT_EQ(attached.error(), 0) << attached.error_message();
  EXPECT_EQ(attached.location().chunk_id(), first);
  EXPECT_EQ(attach(kSession, 1, first).error(), EACCES);  // attached already: gone
  EXPECT_EQ(attach(kSession, 0, first + 1).error(), EEXIST);  // the index holds a chunk
  EXPECT_EQ(GetChunks(file, 0, 1).locations(0).chunk_id(), first);
  EXPECT_GT(state_.registry().Find(first)->lease_expiry_ms, 1000);  // under the session's write lease
  EXPECT_EQ(attached.lease_token(), 0u);  // which its release at close (token 0) ends

  // Every master agrees: the standby by the log, a restart by the checkpoint.
  MasterState standby(Options());
  for (const wire::LogRecord& record : records_) ASSERT_TRUE(standby.Apply(record)) << record.DebugString();
  EXPECT_FALSE(standby.placements().Holds(first));
  EXPECT_TRUE(standby.placements().Holds(first + 1));
  MasterState restored(Options());
  ASSERT_TRUE(state_.ForEachCheckpointRecord([&](const wire::CheckpointRecord& record) {
                      return restored.Restore(record);
                    }).ok());
  EXPECT_EQ(restored.placements().size(), 3u);
  EXPECT_EQ(restored.placements().Find(first + 3)->session, kSession);

  // Never attached: dropped after two leases, logged, and the next chunk id is past them all.
  records_.clear();
  state_.ExpirePlacements(MonotonicMs() + 3 * Options().lease_ms, kNowNs, &records_);
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].placements_expired().chunk_ids_size(), 3);
  std::vector<uint64_t> deleted = state_.registry().TakePendingDeletions(registered.chunkserver_id());
  EXPECT_EQ(deleted.size(), 3u) << "what was written to them goes too";
  EXPECT_EQ(state_.placements().size(), 0u);
  EXPECT_GT(WriteLease(MakeFile("g"), 0).location().chunk_id(), first + 3);
}

}  // namespace
}  // namespace hafs::master
