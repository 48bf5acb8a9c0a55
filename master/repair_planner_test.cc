#include "master/repair_planner.h"

#include <gtest/gtest.h>

#include <map>

#include "master/test_util.h"

namespace hafs::master {
namespace {

constexpr int64_t kTimeoutMs = 1000;

class RepairPlannerTest : public ::testing::Test {
 protected:
  // Chunkserver `uuid` (free space in GiB, label) up at time 0, holding `chunks` (id, version).
  uint32_t Add(const std::string& uuid, uint64_t free_gib, const std::string& label,
               std::vector<std::pair<uint64_t, uint64_t>> chunks = {}) {
    for (auto [chunk_id, version] : chunks) {
      if (!registry_.Find(chunk_id)) registry_.AddChunk(chunk_id, version, 3);
    }
    wire::Envelope envelope = testing::RegisterEnvelope(uuid, chunks, free_gib << 30);
    envelope.mutable_register_()->set_label(label);
    uint32_t id = next_id_++;
    std::vector<ChunkVersion> newer;
    registry_.Register(envelope.register_(), id, 0, 0, &newer);
    return id;
  }
  // Orders by chunk id.
  std::map<uint64_t, CopyOrder> Plan(const RepairPlanner& planner, int64_t now_ms = 0) {
    std::map<uint64_t, CopyOrder> orders;
    for (const CopyOrder& order : planner.PlanCopies(registry_, now_ms, random_)) orders[order.chunk_id] = order;
    return orders;
  }

  ChunkRegistry registry_{kTimeoutMs};
  std::mt19937_64 random_{42};
  uint32_t next_id_ = 1;
};

TEST_F(RepairPlannerTest, CopiesUnderReplicatedChunksToANewHolderOnAnUnusedLabel) {
  uint32_t a = Add("a", 10, "r1", {{1, 5}});
  uint32_t b = Add("b", 10, "r2", {{1, 5}});
  Add("c", 50, "r1");  // most free space, but rack r1 already has a copy
  uint32_t d = Add("d", 10, "r3");
  auto orders = Plan(RepairPlanner(4));
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[1].version, 5u);
  EXPECT_EQ(orders[1].destination, d);
  EXPECT_TRUE(orders[1].source == a || orders[1].source == b);
}

TEST_F(RepairPlannerTest, WaitsForABusyChunkserverOnTheUnusedLabel) {
  Add("a", 10, "r1", {{1, 1}, {2, 1}});
  Add("b", 10, "r2", {{1, 1}, {2, 1}});
  uint32_t c = Add("c", 10, "r3");
  Add("d", 50, "r1");  // room to spare, but both chunks have their r1 copy on a
  RepairPlanner planner(1);
  planner.Started({99, 1, 0, c});  // c, the only r3 chunkserver, is copying something else
  EXPECT_TRUE(planner.PlanCopies(registry_, 0, random_).empty());
  planner.Finished({99, 1, 0, c});
  auto orders = Plan(planner);
  ASSERT_EQ(orders.size(), 1u);  // one copy at a time into c
  EXPECT_EQ(orders.begin()->second.destination, c);
}

TEST_F(RepairPlannerTest, NoCopyGoesWhereTheChunkIsStillBeingDeleted) {
  Add("a", 10, "a", {{1, 1}});
  Add("b", 10, "b", {{1, 1}});
  uint32_t c = Add("c", 10, "c", {{1, 1}});
  registry_.DropReplica(1, c);  // trimmed: its deletion is queued for c's next heartbeat
  RepairPlanner planner(4);
  EXPECT_TRUE(Plan(planner).empty()) << "queued";
  EXPECT_EQ(registry_.TakePendingDeletions(c), std::vector<uint64_t>{1});
  EXPECT_TRUE(Plan(planner).empty()) << "sent, maybe not carried out";
  EXPECT_TRUE(registry_.TakePendingDeletions(c).empty());  // c's next heartbeat: done
  ASSERT_EQ(Plan(planner).size(), 1u);
  EXPECT_EQ(Plan(planner).at(1).destination, c);
}

TEST_F(RepairPlannerTest, FewestCopiesFirstWithinTheLimitPerChunkserver) {
  Add("a", 10, "a", {{1, 1}, {2, 1}});
  Add("b", 10, "b", {{1, 1}});
  Add("c", 10, "c");
  // One copy per chunkserver: a can be the source of only one, and chunk 2 (one copy) wins.
  RepairPlanner planner(1);
  std::vector<CopyOrder> orders = planner.PlanCopies(registry_, 0, random_);
  ASSERT_FALSE(orders.empty());
  EXPECT_EQ(orders.front().chunk_id, 2u);
  EXPECT_EQ(orders.front().valid_replicas, 1u);
  std::map<uint32_t, int> busy;
  for (const CopyOrder& order : orders) {
    busy[order.source]++;
    busy[order.destination]++;
  }
  for (auto [id, copies] : busy) EXPECT_LE(copies, 1) << "chunkserver " << id;
}

TEST_F(RepairPlannerTest, SkipsLeasedCopyingMissingAndHealthyChunks) {
  Add("a", 10, "a", {{1, 1}, {2, 1}, {3, 1}});
  Add("b", 10, "b", {{3, 1}});
  Add("c", 10, "c", {{3, 1}});
  Add("d", 10, "d");
  registry_.AddChunk(4, 1, 3);  // no replica anywhere: missing, nothing to copy from
  registry_.Find(1)->lease_expiry_ms = 100;
  RepairPlanner planner(4);
  planner.Started({2, 1, 1, 4});
  EXPECT_TRUE(Plan(planner, 50).empty());
  // The lease over and the copy finished, both are planned again.
  planner.Finished({2, 1, 1, 4});
  auto orders = Plan(planner, 150);
  EXPECT_EQ(orders.size(), 2u);
  EXPECT_TRUE(orders.contains(1) && orders.contains(2));
}

TEST_F(RepairPlannerTest, ReplicasOnDownChunkserversDoNotCount) {
  Add("a", 10, "a", {{1, 1}});
  Add("b", 10, "b", {{1, 1}});
  Add("c", 10, "c", {{1, 1}});
  Add("d", 10, "d");
  EXPECT_TRUE(Plan(RepairPlanner(4), 0).empty());
  // Only a and d keep heartbeating.
  for (uint32_t id : {1u, 4u}) ASSERT_TRUE(registry_.Heartbeat(testing::HeartbeatEnvelope(id, 10ull << 30).heartbeat(), 2000, 0).ok());
  auto orders = Plan(RepairPlanner(4), 2000);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[1].source, 1u);
  EXPECT_EQ(orders[1].destination, 4u);
}

TEST_F(RepairPlannerTest, TrimsSurplusFromTheFullestKeepingLabels) {
  Add("a", 40, "r1", {{1, 1}});
  Add("b", 1, "r2", {{1, 1}});   // fullest, but the only copy in r2
  uint32_t c = Add("c", 5, "r1", {{1, 1}});
  Add("d", 30, "r3", {{1, 1}});
  RepairPlanner planner(4);
  std::vector<SurplusReplica> trims = planner.PlanTrims(registry_, 0);
  ASSERT_EQ(trims.size(), 1u);
  EXPECT_EQ(trims[0].chunkserver_id, c);
  planner.Started({1, 1, 1, 3});
  EXPECT_TRUE(planner.PlanTrims(registry_, 0).empty()) << "never trims a chunk being copied";
}

TEST_F(RepairPlannerTest, EachChunkIsHeldToItsOwnGoal) {
  // Three replicas of each chunk, four chunkservers; the goals differ.
  Add("a", 10, "a", {{1, 1}, {2, 1}, {3, 1}});
  Add("b", 20, "b", {{1, 1}, {2, 1}, {3, 1}});
  Add("c", 30, "c", {{1, 1}, {2, 1}, {3, 1}});
  uint32_t d = Add("d", 40, "d");
  registry_.SetGoal(std::vector<uint64_t>{1}, 4);
  registry_.SetGoal(std::vector<uint64_t>{2}, 1);
  RepairPlanner planner(4);
  auto orders = Plan(planner);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[1].destination, d) << "goal 4: the one chunkserver without it gets a copy";
  std::map<uint64_t, std::vector<uint32_t>> trims;
  for (const SurplusReplica& trim : planner.PlanTrims(registry_, 0)) {
    trims[trim.chunk_id].push_back(trim.chunkserver_id);
  }
  ASSERT_EQ(trims.size(), 1u) << "chunk 3 keeps its goal of 3, chunk 1 is short";
  EXPECT_EQ(trims[2], (std::vector<uint32_t>{1, 2})) << "goal 1: the two fullest copies go";
}

}  // namespace
}  // namespace hafs::master
