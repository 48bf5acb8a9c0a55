// How maintenance and decommission change what self-healing plans (chunkserver_modes.h).
#include "master/chunkserver_modes.h"

#include <gtest/gtest.h>

#include <map>

#include "master/repair_planner.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

constexpr int64_t kTimeoutMs = 1000;
constexpr uint32_t kGoal = 3;

class ChunkserverModesTest : public ::testing::Test {
 protected:
  // Chunkserver `uuid` up at time 0 (label = uuid), holding `chunks` (id, version).
  uint32_t Add(const std::string& uuid, std::vector<std::pair<uint64_t, uint64_t>> chunks = {}) {
    for (auto [chunk_id, version] : chunks) {
      if (!registry_.Find(chunk_id)) registry_.AddChunk(chunk_id, version, kGoal);
    }
    uint32_t id = next_id_++;
    std::vector<ChunkVersion> newer;
    registry_.Register(testing::RegisterEnvelope(uuid, chunks, 10ull << 30).register_(), id, 0, 0, &newer);
    return id;
  }
  // Only `ids` heartbeat at `now_ms`; the others fall silent.
  void KeepUp(std::initializer_list<uint32_t> ids, int64_t now_ms) {
    for (uint32_t id : ids) {
      ASSERT_TRUE(registry_.Heartbeat(testing::HeartbeatEnvelope(id, 10ull << 30).heartbeat(), now_ms, 0).ok());
    }
  }
  std::map<uint64_t, CopyOrder> Plan(int64_t now_ms) {
    std::map<uint64_t, CopyOrder> orders;
    for (const CopyOrder& order : planner_.PlanCopies(registry_, now_ms, random_)) {
      orders[order.chunk_id] = order;
    }
    return orders;
  }
  std::vector<SurplusReplica> Trims(int64_t now_ms) { return planner_.PlanTrims(registry_, now_ms); }

  ChunkRegistry registry_{kTimeoutMs};
  RepairPlanner planner_{4};
  std::mt19937_64 random_{7};
  uint32_t next_id_ = 1;
};

TEST_F(ChunkserverModesTest, MaintenanceKeepsADownChunkserversReplicasCounting) {
  uint32_t a = Add("a", {{1, 2}});
  uint32_t b = Add("b", {{1, 2}});
  uint32_t m = Add("m", {{1, 2}});
  uint32_t d = Add("d");
  registry_.SetMode(m, wire::MODE_MAINTENANCE);
  KeepUp({a, b, d}, 5000);  // m is down
  const ChunkState& chunk = *registry_.Find(1);
  EXPECT_EQ(CountValidReplicas(registry_, chunk, 5000), 3u);
  EXPECT_FALSE(CountsAndIsUp(registry_, chunk, chunk.replicas[2], 5000));
  EXPECT_TRUE(Plan(5000).empty()) << "a planned restart starts no copy";
  EXPECT_TRUE(Trims(5000).empty());

  // A write while it is down moves the version on: its replica is stale and counts no more.
  registry_.SetVersion(1, 3);
  registry_.AddReplica(1, a, 3);
  registry_.AddReplica(1, b, 3);
  EXPECT_EQ(CountValidReplicas(registry_, chunk, 5000), 2u);
  auto orders = Plan(5000);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[1].destination, d);

  // Maintenance off: an unchanged replica on a down chunkserver counts no more either.
  registry_.SetVersion(1, 2);
  for (uint32_t id : {a, b}) registry_.AddReplica(1, id, 2);
  registry_.SetMode(m, wire::MODE_NORMAL);
  EXPECT_EQ(CountValidReplicas(registry_, chunk, 5000), 2u);
  EXPECT_EQ(Plan(5000).size(), 1u);
}

TEST_F(ChunkserverModesTest, ChunkserversInAModeTakeNoNewChunksOrCopies) {
  Add("a", {{1, 1}});
  Add("b", {{1, 1}});
  uint32_t m = Add("m");
  uint32_t x = Add("x");
  registry_.SetMode(m, wire::MODE_MAINTENANCE);
  registry_.SetMode(x, wire::MODE_DECOMMISSION);
  EXPECT_FALSE(TakesNewChunks(registry_, *registry_.FindChunkserver(m), 0));
  EXPECT_FALSE(TakesNewChunks(registry_, *registry_.FindChunkserver(x), 0));
  EXPECT_TRUE(Plan(0).empty()) << "nowhere to copy to but chunkservers in a mode";
  uint32_t e = Add("e");
  ASSERT_EQ(Plan(0).size(), 1u);
  EXPECT_EQ(Plan(0)[1].destination, e);
}

TEST_F(ChunkserverModesTest, DecommissionCopiesFewestFirstFromItThenDropsIt) {
  Add("a", {{1, 1}, {2, 1}});
  Add("b", {{1, 1}, {2, 1}});
  uint32_t x = Add("x", {{1, 1}, {2, 1}, {3, 1}});  // chunk 3 is only here
  uint32_t e = Add("e", {{2, 1}});                  // chunk 2 has its goal without x
  uint32_t f = Add("f");
  registry_.SetMode(x, wire::MODE_DECOMMISSION);
  EXPECT_EQ(CountValidReplicas(registry_, *registry_.Find(3), 0), 0u);
  EXPECT_TRUE(AnyReadable(registry_, *registry_.Find(3), 0));

  // Chunk 3 (no counting copy) before chunk 1 (two); x is the only source of chunk 3.
  std::vector<CopyOrder> orders = planner_.PlanCopies(registry_, 0, random_);
  ASSERT_EQ(orders.size(), 2u);
  EXPECT_EQ(orders[0].chunk_id, 3u);
  EXPECT_EQ(orders[0].source, x);
  EXPECT_EQ(orders[1].chunk_id, 1u);
  EXPECT_TRUE(orders[1].destination == e || orders[1].destination == f);

  // Only chunk 2 has its goal elsewhere: only its replica on x goes now.
  std::vector<SurplusReplica> trims = Trims(0);
  ASSERT_EQ(trims.size(), 1u);
  EXPECT_EQ(trims[0].chunk_id, 2u);
  EXPECT_EQ(trims[0].chunkserver_id, x);

  // Once chunk 1 has three counting copies, its replica on x goes too.
  registry_.AddReplica(1, orders[1].destination, 1);
  std::map<uint64_t, uint32_t> dropped;
  for (const SurplusReplica& trim : Trims(0)) dropped[trim.chunk_id] = trim.chunkserver_id;
  EXPECT_EQ(dropped, (std::map<uint64_t, uint32_t>{{1, x}, {2, x}}));
}

TEST_F(ChunkserverModesTest, NeverTrimsOnTheStrengthOfADownChunkserver) {
  uint32_t a = Add("a", {{1, 1}});
  uint32_t b = Add("b", {{1, 1}});
  uint32_t c = Add("c", {{1, 1}});
  uint32_t m = Add("m", {{1, 1}});
  uint32_t x = Add("x", {{1, 1}});
  registry_.SetMode(m, wire::MODE_MAINTENANCE);
  registry_.SetMode(x, wire::MODE_DECOMMISSION);
  KeepUp({a, b, x}, 5000);  // c and m are down
  // Three count (a, b, m) but only two are up: neither x's replica nor a surplus one goes.
  EXPECT_EQ(CountValidReplicas(registry_, *registry_.Find(1), 5000), 3u);
  EXPECT_TRUE(Trims(5000).empty());
  KeepUp({a, b, c, x}, 5000);
  std::vector<SurplusReplica> trims = Trims(5000);
  ASSERT_EQ(trims.size(), 1u);
  EXPECT_EQ(trims[0].chunkserver_id, x) << "three up copies without x: x's goes, nothing more";
}

TEST_F(ChunkserverModesTest, ModesAreKeptByMemberIdAcrossRegistrations) {
  registry_.SetMode(9, wire::MODE_MAINTENANCE);  // a member that has not registered
  EXPECT_EQ(registry_.Mode(9), wire::MODE_MAINTENANCE);
  EXPECT_EQ(registry_.Mode(1), wire::MODE_NORMAL);
  registry_.SetMode(9, wire::MODE_NORMAL);
  EXPECT_EQ(registry_.Mode(9), wire::MODE_NORMAL);
}

}  // namespace
}  // namespace hafs::master
