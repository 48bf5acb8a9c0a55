#include "mount/replica_picker.h"

#include <gtest/gtest.h>

#include <set>

namespace hafs::mount {
namespace {

const std::vector<std::string> kReplicas = {"a:1", "b:1", "c:1"};

TEST(ReplicaPicker, SameChunkSameFirstChoice) {
  ReplicaPicker picker;
  for (uint64_t chunk_id = 1; chunk_id < 20; ++chunk_id) {
    auto order = picker.Order(kReplicas, chunk_id, 0);
    ASSERT_EQ(order.size(), 3u);
    // The same chunk, the same replica: its page cache serves the chunk's next reads.
    for (int i = 0; i < 3; ++i) EXPECT_EQ(picker.Order(kReplicas, chunk_id, 0), order);
  }
}

// Consecutive chunk ids spread about evenly over two or three replicas.
TEST(ReplicaPicker, ChunksSpreadOverReplicas) {
  for (size_t replicas : {2u, 3u}) {
    ReplicaPicker picker(/*suspect_ms=*/5000, /*salt=*/12345);
    std::vector<std::string> addresses(kReplicas.begin(), kReplicas.begin() + replicas);
    std::vector<int> firsts(replicas);
    constexpr int kChunks = 3000;
    for (uint64_t chunk_id = 1; chunk_id <= kChunks; ++chunk_id) firsts[picker.Order(addresses, chunk_id, 0)[0]]++;
    int expected = kChunks / static_cast<int>(replicas);
    for (int count : firsts) EXPECT_NEAR(count, expected, expected / 5) << replicas << " replicas";
  }
}

// Mounts draw different salts, so one chunk read by several mounts is not read from one replica
// by all of them.
TEST(ReplicaPicker, SaltsSpreadOneChunkOverMounts) {
  std::set<size_t> firsts;
  for (uint64_t salt = 0; salt < 30; ++salt) firsts.insert(ReplicaPicker(5000, salt).Order(kReplicas, 7, 0)[0]);
  EXPECT_EQ(firsts.size(), 3u);
}

TEST(ReplicaPicker, PrefersLeastOutstanding) {
  ReplicaPicker picker;
  picker.Started("a:1");
  picker.Started("b:1");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(picker.Order(kReplicas, i, 0)[0], 2u);
  picker.Finished("a:1");
  picker.Finished("b:1");
}

TEST(ReplicaPicker, SuspectGoesLastUntilItExpires) {
  ReplicaPicker picker(/*suspect_ms=*/1000);
  picker.Failed("b:1", 100);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(picker.Order(kReplicas, i, 500).back(), 1u);
  std::set<size_t> firsts;
  for (int i = 0; i < 30; ++i) firsts.insert(picker.Order(kReplicas, i, 1100)[0]);
  EXPECT_EQ(firsts.size(), 3u);
}

TEST(ReplicaPicker, EveryReplicaAppearsOnce) {
  ReplicaPicker picker;
  picker.Failed("a:1", 0);
  auto order = picker.Order(kReplicas, 0, 1);
  EXPECT_EQ(std::set<size_t>(order.begin(), order.end()).size(), 3u);
  EXPECT_TRUE(picker.Order({}, 5, 0).empty());
}

}  // namespace
}  // namespace hafs::mount
