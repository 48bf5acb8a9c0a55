#include "master/chunk_placements.h"

#include <gtest/gtest.h>

namespace hafs::master {
namespace {

wire::ChunksPlaced Placed(uint64_t session, std::initializer_list<uint64_t> ids, uint32_t goal = 3) {
  wire::ChunksPlaced placed;
  placed.set_session(session);
  placed.set_goal(goal);
  for (uint64_t id : ids) {
    wire::PlacedChunk* chunk = placed.add_chunks();
    chunk->set_chunk_id(id);
    for (const char* uuid : {"a", "b", "c"}) chunk->add_replica_uuids(uuid);
  }
  return placed;
}

TEST(ChunkPlacements, APlacementIsItsSessionsUntilTakenOrExpired) {
  ChunkPlacements placements;
  placements.Add(Placed(7, {10, 11}), /*expiry_ms=*/1000);
  ASSERT_NE(placements.Find(10), nullptr);
  EXPECT_EQ(placements.Find(10)->session, 7u);
  EXPECT_EQ(placements.Find(10)->replica_uuids, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(placements.Find(12), nullptr);
  EXPECT_TRUE(placements.Expired(999, 10).empty());
  EXPECT_EQ(placements.Expired(1000, 10).size(), 2u);
  EXPECT_EQ(placements.Expired(1000, 1).size(), 1u);  // at most the limit at a time
  placements.Take(10);
  EXPECT_FALSE(placements.Holds(10));
  placements.Take(10);  // twice: nothing more happens
  EXPECT_EQ(placements.size(), 1u);
}

TEST(ChunkPlacements, GrantsStayWithinEachSessionsAndTheTotalBound) {
  ChunkPlacements placements;
  EXPECT_EQ(placements.MayGrant(1, 1000), ChunkPlacements::kMaxPerGrant);
  uint64_t next = 1;
  while (placements.MayGrant(1, ChunkPlacements::kMaxPerGrant) > 0) {
    wire::ChunksPlaced placed = Placed(1, {});
    for (uint32_t i = placements.MayGrant(1, ChunkPlacements::kMaxPerGrant); i > 0; --i) placed.add_chunks()->set_chunk_id(next++);
    placements.Add(placed, 1000);
  }
  EXPECT_EQ(placements.size(), ChunkPlacements::kMaxPerSession);
  EXPECT_EQ(placements.MayGrant(2, 5), 5u);  // another session still may
  placements.Take(1);
  EXPECT_EQ(placements.MayGrant(1, 5), 1u);
}

TEST(ChunkPlacements, ACheckpointRestoresEveryPlacementWithItsSessionAndGoal) {
  ChunkPlacements placements;
  placements.Add(Placed(7, {10, 11}, 2), 1000);
  placements.Add(Placed(8, {12}, 3), 1000);
  ChunkPlacements restored;
  for (const wire::ChunksPlaced& placed : placements.All()) restored.Add(placed, 5000);
  ASSERT_EQ(restored.size(), 3u);
  EXPECT_EQ(restored.Find(11)->session, 7u);
  EXPECT_EQ(restored.Find(11)->goal, 2u);
  EXPECT_EQ(restored.Find(12)->session, 8u);
  EXPECT_EQ(restored.Find(12)->replica_uuids.size(), 3u);
  EXPECT_EQ(restored.MayGrant(7, 1000), ChunkPlacements::kMaxPerGrant);
}

}  // namespace
}  // namespace hafs::master
