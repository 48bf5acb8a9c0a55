// Replicas one version behind after a restart: a lease bumped the version (logged) and
// the master restarted before any write reached the replicas. They are kept as stale,
// and recovered once the grace period has passed with no valid replica registering.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "master/master_state.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

using testing::ChunkserverIds;

constexpr int64_t kNowNs = 1'700'000'000'000'000'000;
constexpr uint64_t kGiB = 1ULL << 30;
constexpr int64_t kHeartbeatTimeoutMs = 5000;
constexpr int64_t kRestartMs = 100000;  // the second master starts serving here
constexpr int64_t kGraceOverMs = kRestartMs + kHeartbeatTimeoutMs + 1;

MasterOptions Options() {
  MasterOptions options;
  options.goal = 3;
  options.min_write_replicas = 2;
  options.heartbeat_timeout_ms = kHeartbeatTimeoutMs;
  options.lease_ms = 60000;
  return options;
}

class StaleReplicasTest : public ::testing::Test {
 protected:
  StaleReplicasTest() : state_(std::make_unique<MasterState>(Options())) { state_->StartEpoch(0, kNowNs, &log_); }

  wire::Reply Call(const wire::Envelope& request, int64_t now_ms) {
    return state_->Handle(request, now_ms, kNowNs, &log_);
  }
  // Registers chunkserver `uuid` and returns the chunks it is told to delete.
  std::set<uint64_t> Register(const std::string& uuid, std::vector<std::pair<uint64_t, uint64_t>> chunks,
                              int64_t now_ms) {
    wire::Reply reply = Call(testing::RegisterEnvelope(uuid, chunks, 100 * kGiB), now_ms);
    EXPECT_EQ(reply.error(), 0);
    ids_[uuid] = reply.chunkserver_id();
    return {reply.delete_chunks().begin(), reply.delete_chunks().end()};
  }
  std::set<uint64_t> Heartbeat(const std::string& uuid, int64_t now_ms) {
    wire::Reply reply = Call(testing::HeartbeatEnvelope(ids_[uuid], 100 * kGiB), now_ms);
    EXPECT_EQ(reply.error(), 0);
    return {reply.delete_chunks().begin(), reply.delete_chunks().end()};
  }
  wire::Reply WriteLease(uint64_t inode, uint64_t index, int64_t now_ms) {
    return Call(testing::WriteLeaseEnvelope(inode, index, {}), now_ms);
  }
  wire::ChunkLocation Location(uint64_t inode, int64_t now_ms) {
    return Call(testing::GetChunksEnvelope(inode, 0, 1), now_ms).locations(0);
  }
  std::multiset<std::string> ReplicaStates(uint64_t inode, int64_t now_ms) {
    wire::Envelope request;
    request.mutable_file_info()->set_inode(inode);
    wire::Reply reply = Call(request, now_ms);
    std::multiset<std::string> states;
    for (const auto& replica : reply.chunks(0).replicas()) states.insert(replica.state());
    return states;
  }
  std::set<uint32_t> Ids(std::initializer_list<const char*> uuids) {
    std::set<uint32_t> ids;
    for (const char* uuid : uuids) ids.insert(ids_[uuid]);
    return ids;
  }

  // A file with one chunk written at version 1 on a, b and c, then `bumps` more leases
  // (each after the last expired) that raised the version (logged) with no write.
  void WriteThenBumpWithoutWriting(uint64_t bumps = 1) {
    for (const char* uuid : {"a", "b", "c"}) Register(uuid, {}, 1000);
    file_ = Call(testing::MknodEnvelope(kRootInode, "f"), 1000).attr().inode();
    wire::Reply first = WriteLease(file_, 0, 1000);
    ASSERT_EQ(first.error(), 0);
    chunk_id_ = first.location().chunk_id();
    wire::Envelope done;
    done.mutable_write_done()->set_inode(file_);
    done.mutable_write_done()->set_end_offset(4096);
    done.mutable_write_done()->set_mtime_ns(kNowNs);
    ASSERT_EQ(Call(done, 1000).error(), 0);
    for (uint64_t bump = 1; bump <= bumps; ++bump) {
      int64_t now_ms = 1000 + static_cast<int64_t>(bump) * 61000;
      for (const char* uuid : {"a", "b", "c"}) Heartbeat(uuid, now_ms);
      wire::Reply lease = WriteLease(file_, 0, now_ms);
      ASSERT_EQ(lease.error(), 0);
      ASSERT_EQ(lease.location().chunk_version(), 1 + bump);
    }
  }
  // A new master replaying everything the old one logged, serving from kRestartMs.
  void Restart() {
    state_ = std::make_unique<MasterState>(Options());
    for (const wire::LogRecord& record : log_) ASSERT_TRUE(state_->Replay(record).ok());
    state_->StartEpoch(kRestartMs, kNowNs, &log_);
    ids_.clear();
  }
  std::vector<wire::LogRecord> Resolve(int64_t now_ms) {
    size_t before = log_.size();
    state_->ResolveStaleChunks(now_ms, kNowNs, &log_);
    return {log_.begin() + static_cast<std::ptrdiff_t>(before), log_.end()};
  }

  std::unique_ptr<MasterState> state_;
  std::vector<wire::LogRecord> log_;  // everything logged, in order
  std::map<std::string, uint32_t> ids_;
  uint64_t file_ = 0;
  uint64_t chunk_id_ = 0;
};

TEST_F(StaleReplicasTest, BumpedVersionWithoutWriteIsRecoveredAfterTheGracePeriod) {
  WriteThenBumpWithoutWriting();
  Restart();
  for (const char* uuid : {"a", "b", "c"}) EXPECT_TRUE(Register(uuid, {{chunk_id_, 1}}, kRestartMs).empty());

  // Within the grace period: kept as stale, not handed out, nothing deleted.
  EXPECT_EQ(Location(file_, kRestartMs).replicas_size(), 0);
  EXPECT_EQ(ReplicaStates(file_, kRestartMs), (std::multiset<std::string>{"stale", "stale", "stale"}));
  EXPECT_TRUE(Resolve(kRestartMs + kHeartbeatTimeoutMs).empty());
  for (const char* uuid : {"a", "b", "c"}) EXPECT_TRUE(Heartbeat(uuid, kRestartMs + 4000).empty());

  // After it: version 1 comes back, logged, on all three.
  std::vector<wire::LogRecord> recovered = Resolve(kGraceOverMs);
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].chunk_version_bumped().chunk_id(), chunk_id_);
  EXPECT_EQ(recovered[0].chunk_version_bumped().chunk_version(), 1u);
  wire::ChunkLocation location = Location(file_, kGraceOverMs);
  EXPECT_EQ(location.chunk_version(), 1u);
  EXPECT_EQ(ChunkserverIds(location), Ids({"a", "b", "c"}));
  EXPECT_EQ(ReplicaStates(file_, kGraceOverMs), (std::multiset<std::string>{"valid", "valid", "valid"}));
  for (const char* uuid : {"a", "b", "c"}) EXPECT_TRUE(Heartbeat(uuid, kGraceOverMs).empty());
  EXPECT_TRUE(Resolve(kGraceOverMs + 1000).empty());  // done once

  // Version 2 was handed out once (a replica may hold writes at it), so the next lease
  // skips it.
  wire::Reply lease = WriteLease(file_, 0, kGraceOverMs);
  ASSERT_EQ(lease.error(), 0) << lease.error_message();
  EXPECT_EQ(lease.location().chunk_version(), 3u);
  EXPECT_EQ(lease.location().replicas_size(), 3);

  // The recovery (a version going down) replays to the same state.
  MasterState replayed(Options());
  for (const wire::LogRecord& record : log_) ASSERT_TRUE(replayed.Replay(record).ok());
  EXPECT_EQ(testing::Dump(replayed), testing::Dump(*state_));
}

TEST_F(StaleReplicasTest, OnlyUpChunkserversAreRecoveredAndLowerVersionsDeleted) {
  WriteThenBumpWithoutWriting(2);  // version 3; say a and b took a write at 2, c did not
  Restart();
  Register("a", {{chunk_id_, 2}}, kRestartMs);  // and goes down
  Register("b", {{chunk_id_, 2}}, kGraceOverMs - 1000);
  Register("c", {{chunk_id_, 1}}, kGraceOverMs - 1000);
  ASSERT_EQ(Resolve(kGraceOverMs).size(), 1u);  // a is down by now; b and c are up
  wire::ChunkLocation location = Location(file_, kGraceOverMs);
  EXPECT_EQ(location.chunk_version(), 2u);
  EXPECT_EQ(ChunkserverIds(location), Ids({"b"}));
  EXPECT_EQ(Heartbeat("c", kGraceOverMs), (std::set<uint64_t>{chunk_id_}));
  // a's copy (at the recovered version) counts again once it heartbeats.
  EXPECT_TRUE(Heartbeat("a", kGraceOverMs).empty());
  EXPECT_EQ(ChunkserverIds(Location(file_, kGraceOverMs)), Ids({"a", "b"}));
}

TEST_F(StaleReplicasTest, StaleReplicaAfterAValidOneIsDeleted) {
  WriteThenBumpWithoutWriting();
  Restart();
  EXPECT_TRUE(Register("a", {{chunk_id_, 2}}, kRestartMs).empty());
  EXPECT_EQ(Register("b", {{chunk_id_, 1}}, kRestartMs), (std::set<uint64_t>{chunk_id_}));
  EXPECT_EQ(ChunkserverIds(Location(file_, kRestartMs)), Ids({"a"}));
  EXPECT_TRUE(Resolve(kGraceOverMs).empty());
}

TEST_F(StaleReplicasTest, ValidReplicaAfterStaleOnesDeletesThem) {
  WriteThenBumpWithoutWriting();
  Restart();
  EXPECT_TRUE(Register("a", {{chunk_id_, 1}}, kRestartMs).empty());
  EXPECT_TRUE(Register("b", {{chunk_id_, 1}}, kRestartMs).empty());
  EXPECT_TRUE(Register("c", {{chunk_id_, 2}}, kRestartMs).empty());
  EXPECT_EQ(Heartbeat("a", kRestartMs), (std::set<uint64_t>{chunk_id_}));
  EXPECT_EQ(Heartbeat("b", kRestartMs), (std::set<uint64_t>{chunk_id_}));
  EXPECT_EQ(ChunkserverIds(Location(file_, kRestartMs)), Ids({"c"}));
  EXPECT_EQ(ReplicaStates(file_, kRestartMs), (std::multiset<std::string>{"valid"}));
  EXPECT_TRUE(Resolve(kGraceOverMs).empty());
}

TEST_F(StaleReplicasTest, NewerReplicaAfterStaleOnesDeletesThem) {
  WriteThenBumpWithoutWriting();
  Restart();
  EXPECT_TRUE(Register("a", {{chunk_id_, 1}}, kRestartMs).empty());
  EXPECT_TRUE(Register("b", {{chunk_id_, 3}}, kRestartMs).empty());  // adopted
  EXPECT_EQ(Heartbeat("a", kRestartMs), (std::set<uint64_t>{chunk_id_}));
  wire::ChunkLocation location = Location(file_, kRestartMs);
  EXPECT_EQ(location.chunk_version(), 3u);
  EXPECT_EQ(ChunkserverIds(location), Ids({"b"}));
}

TEST_F(StaleReplicasTest, ChunkAllocatedButNeverWrittenGetsANewChainAfterTheGracePeriod) {
  for (const char* uuid : {"a", "b", "c"}) Register(uuid, {}, 1000);
  uint64_t file = Call(testing::MknodEnvelope(kRootInode, "f"), 1000).attr().inode();
  uint64_t chunk_id = WriteLease(file, 0, 1000).location().chunk_id();
  Restart();
  for (const char* uuid : {"a", "b", "c"}) Register(uuid, {}, kRestartMs);
  EXPECT_EQ(Location(file, kRestartMs).replicas_size(), 0);  // reads: no replicas, as before

  // Within the grace period its holders may still register: ask again.
  EXPECT_EQ(WriteLease(file, 0, kRestartMs).error(), EAGAIN);
  for (const char* uuid : {"a", "b", "c"}) Heartbeat(uuid, kGraceOverMs);
  size_t logged = log_.size();
  wire::Reply lease = WriteLease(file, 0, kGraceOverMs);
  ASSERT_EQ(lease.error(), 0) << lease.error_message();
  EXPECT_EQ(lease.location().chunk_id(), chunk_id);
  EXPECT_EQ(lease.location().chunk_version(), 2u);
  EXPECT_EQ(ChunkserverIds(lease.location()), Ids({"a", "b", "c"}));
  ASSERT_EQ(log_.size(), logged + 1);
  EXPECT_EQ(log_.back().chunk_version_bumped().chunk_version(), 2u);
}

TEST_F(StaleReplicasTest, ChunkWithReportedDataIsNotReplacedWhenItsHoldersAreAway) {
  WriteThenBumpWithoutWriting();  // the file's size (4096) says chunk 0 holds data
  Restart();
  Register("d", {}, kRestartMs);
  Register("e", {}, kRestartMs);
  Heartbeat("d", kGraceOverMs);
  Heartbeat("e", kGraceOverMs);
  wire::Reply lease = WriteLease(file_, 0, kGraceOverMs);
  EXPECT_EQ(lease.error(), EIO);
  EXPECT_TRUE(Resolve(kGraceOverMs).empty());
}

}  // namespace
}  // namespace hafs::master
