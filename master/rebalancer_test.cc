#include "master/rebalancer.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "master/test_util.h"

namespace hafs::master {
namespace {

constexpr int64_t kTimeoutMs = 1000;
constexpr uint32_t kGoal = 3;
constexpr uint64_t kChunkBytes = 4 << 20;
constexpr uint64_t kFreeBytes = 100ull << 30;  // one disk shared by all, as on a test machine

class RebalancerTest : public ::testing::Test {
 protected:
  // Chunkserver `uuid` up at time 0 holding chunks `chunk_ids` (version 1) of kChunkBytes.
  uint32_t Add(const std::string& uuid, const std::string& label, const std::vector<uint64_t>& chunk_ids,
               uint64_t free_bytes = kFreeBytes) {
    std::vector<std::pair<uint64_t, uint64_t>> chunks;
    for (uint64_t chunk_id : chunk_ids) {
      if (!registry_.Find(chunk_id)) registry_.AddChunk(chunk_id, 1, kGoal);
      chunks.emplace_back(chunk_id, 1);
    }
    wire::Envelope envelope = testing::RegisterEnvelope(uuid, chunks, free_bytes);
    envelope.mutable_register_()->set_label(label);
    envelope.mutable_register_()->mutable_space()->set_used_bytes(chunk_ids.size() * kChunkBytes);
    uint32_t id = next_id_++;
    std::vector<ChunkVersion> newer;
    registry_.Register(envelope.register_(), id, 0, 0, &newer);
    return id;
  }
  static std::vector<uint64_t> Chunks(uint64_t first, uint64_t last) {
    std::vector<uint64_t> ids;
    for (uint64_t id = first; id <= last; ++id) ids.push_back(id);
    return ids;
  }
  // Carries out `orders` as MasterService does: copy, then FinishMove.
  void Carry(const std::vector<CopyOrder>& orders) {
    for (const CopyOrder& order : orders) planner_.Started(order);
    for (const CopyOrder& order : orders) {
      registry_.AddReplica(order.chunk_id, order.destination, order.version);
      planner_.Finished(order);
      EXPECT_TRUE(FinishMove(registry_, order, 0));
    }
  }
  // Plans and carries out moves until none is planned; returns how many there were.
  size_t RunToTheEnd(const Rebalancer& rebalancer) {
    size_t moves = 0;
    for (int round = 0; round < 1000; ++round) {
      std::vector<CopyOrder> orders = rebalancer.Plan(registry_, planner_, 0);
      if (orders.empty()) return moves;
      moves += orders.size();
      Carry(orders);
    }
    ADD_FAILURE() << "rebalancing never ends";
    return moves;
  }
  std::map<uint32_t, uint64_t> Replicas() {
    std::map<uint32_t, uint64_t> counts;
    for (const auto& [id, count] : registry_.ReplicasByChunkserver()) counts[id] = count;
    return counts;
  }
  // Every chunk has kGoal replicas on distinct chunkservers with distinct labels.
  void ExpectChunksIntact() {
    for (const auto& [chunk_id, chunk] : registry_.chunks()) {
      std::set<std::string> labels;
      for (const Replica& replica : chunk.replicas)
        labels.insert(registry_.FindChunkserver(replica.chunkserver_id)->label);
      EXPECT_EQ(chunk.replicas.size(), kGoal) << "chunk " << chunk_id;
      EXPECT_EQ(labels.size(), kGoal) << "chunk " << chunk_id;
    }
  }

  ChunkRegistry registry_{kTimeoutMs};
  RepairPlanner planner_{2};
  uint32_t next_id_ = 1;
};

TEST_F(RebalancerTest, ANewEmptyChunkserverGetsItsShareAndThenNothingMoves) {
  for (const char* uuid : {"a", "b", "c"}) Add(uuid, uuid, Chunks(1, 12));
  uint32_t d = Add("d", "d", {});
  Rebalancer rebalancer({0.10, 2});
  size_t moves = RunToTheEnd(rebalancer);
  // 36 replicas over four: nine each, within one chunk (the band's floor).
  std::map<uint32_t, uint64_t> replicas = Replicas();
  for (auto [id, count] : replicas) EXPECT_NEAR(static_cast<double>(count), 9.0, 1.0) << "chunkserver " << id;
  EXPECT_EQ(moves, replicas[d]) << "every move went to the new chunkserver: nothing went back and forth";
  ExpectChunksIntact();
  for (const ChunkserverLoad& load : rebalancer.Loads(registry_, planner_, 0)) {
    EXPECT_LE(std::abs(load.deviation()), load.band_bytes) << "chunkserver " << load.chunkserver_id;
  }
}

TEST_F(RebalancerTest, TargetsFollowCapacityAndTheBandHasAChunkAsFloor) {
  Add("a", "a", Chunks(1, 30), kFreeBytes);
  Add("b", "b", {}, 3 * kFreeBytes);
  std::vector<ChunkserverLoad> loads = Rebalancer({0.10, 2}).Loads(registry_, planner_, 0);
  ASSERT_EQ(loads.size(), 2u);
  std::map<uint32_t, ChunkserverLoad> by_id;
  for (const ChunkserverLoad& load : loads) by_id[load.chunkserver_id] = load;
  EXPECT_DOUBLE_EQ(by_id[1].stored_bytes, 30.0 * kChunkBytes);
  EXPECT_DOUBLE_EQ(by_id[2].chunk_bytes, kChunkBytes) << "a chunkserver without chunks expects the usual size";
  EXPECT_NEAR(by_id[2].target_bytes / by_id[1].target_bytes, 3.0, 0.01);
  EXPECT_DOUBLE_EQ(by_id[1].band_bytes, kChunkBytes) << "10% of 7.5 chunks is less than one chunk";
}

TEST_F(RebalancerTest, BoundedByTheMoveLimitAndTheCopiesPerChunkserver) {
  for (const char* uuid : {"a", "b", "c"}) Add(uuid, uuid, Chunks(1, 12));
  uint32_t d = Add("d", "d", {});
  EXPECT_EQ(Rebalancer({0.10, 1}).Plan(registry_, planner_, 0).size(), 1u);
  EXPECT_TRUE(Rebalancer({0.10, 0}).Plan(registry_, planner_, 0).empty()) << "0 turns rebalancing off";
  // d is the destination of every move and takes part in at most two copies at once.
  std::vector<CopyOrder> orders = Rebalancer({0.10, 8}).Plan(registry_, planner_, 0);
  ASSERT_EQ(orders.size(), 2u);
  std::set<uint64_t> chunk_ids;
  for (const CopyOrder& order : orders) {
    EXPECT_EQ(order.destination, d);
    EXPECT_EQ(order.move_from, order.source);
    chunk_ids.insert(order.chunk_id);
  }
  EXPECT_EQ(chunk_ids.size(), 2u);
  // Moves in flight count against the limit and as done.
  planner_.Started(orders[0]);
  EXPECT_EQ(Rebalancer({0.10, 2}).Plan(registry_, planner_, 0).size(), 1u);
  EXPECT_TRUE(Rebalancer({0.10, 1}).Plan(registry_, planner_, 0).empty());
}

TEST_F(RebalancerTest, NeverPutsTwoCopiesInOneLabelWhenTheChunkHadThreeLabels) {
  uint32_t a = Add("a", "rack=r1", Chunks(1, 12));
  Add("b", "rack=r2", Chunks(1, 12));
  Add("c", "rack=r3", Chunks(1, 12));
  Add("d", "rack=r1", {});
  RunToTheEnd(Rebalancer({0.10, 2}));
  ExpectChunksIntact();
  EXPECT_LT(Replicas()[a], 12u) << "a (the other rack=r1) is the one that gave";
}

TEST_F(RebalancerTest, ChunksInTransitionAndChunkserversInAModeStayPut) {
  for (const char* uuid : {"a", "b", "c"}) Add(uuid, uuid, Chunks(1, 4));
  Add("u", "u", {5, 6});     // chunks 5 and 6: under their goal, for repairs to handle
  Add("m", "m", {2, 3, 4});  // fourth copies: over the goal, for trims to handle
  uint32_t d = Add("d", "d", {});
  // Chunk 1 is the only one at its goal with every copy valid and up.
  std::vector<CopyOrder> orders = Rebalancer({0.10, 2}).Plan(registry_, planner_, 0);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].chunk_id, 1u);

  registry_.SetMode(d, wire::MODE_MAINTENANCE);
  for (const CopyOrder& order : Rebalancer({0.10, 2}).Plan(registry_, planner_, 0)) {
    EXPECT_NE(order.destination, d) << "a chunkserver in maintenance takes nothing";
  }
  registry_.SetMode(d, wire::MODE_NORMAL);
  registry_.Find(1)->lease_expiry_ms = 100;
  EXPECT_TRUE(Rebalancer({0.10, 2}).Plan(registry_, planner_, 0).empty()) << "chunk 1 is leased";
  registry_.Find(1)->lease_expiry_ms = 0;
  registry_.SetMode(3, wire::MODE_DECOMMISSION);
  EXPECT_TRUE(Rebalancer({0.10, 2}).Plan(registry_, planner_, 0).empty()) << "c, a holder, is leaving";
}

TEST_F(RebalancerTest, FinishMoveKeepsTheDonorWhenTheChunkWouldFallBelowItsGoal) {
  uint32_t a = Add("a", "a", {1, 2});
  Add("b", "b", {1, 2});
  Add("c", "c", {1, 2});
  uint32_t d = Add("d", "d", {});
  CopyOrder move{.chunk_id = 1, .version = 1, .source = a, .destination = d, .move_from = a};
  EXPECT_FALSE(FinishMove(registry_, move, 0)) << "the copy is not on d";
  registry_.AddReplica(1, d, 1);
  registry_.SetVersion(1, 2);  // a write moved the chunk on meanwhile
  EXPECT_FALSE(FinishMove(registry_, move, 0));
  registry_.SetVersion(1, 1);
  ASSERT_TRUE(registry_.Heartbeat(testing::HeartbeatEnvelope(a, kFreeBytes).heartbeat(), 5000, 0).ok());
  ASSERT_TRUE(registry_.Heartbeat(testing::HeartbeatEnvelope(d, kFreeBytes).heartbeat(), 5000, 0).ok());
  EXPECT_FALSE(FinishMove(registry_, move, 5000)) << "b and c are down: a stays";
  EXPECT_TRUE(FinishMove(registry_, move, 0));
  EXPECT_EQ(registry_.Find(1)->replicas.size(), 3u);
  EXPECT_EQ(registry_.TakePendingDeletions(a), std::vector<uint64_t>{1});
}

}  // namespace
}  // namespace hafs::master
