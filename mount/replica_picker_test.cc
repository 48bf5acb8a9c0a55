#include "mount/replica_picker.h"

#include <gtest/gtest.h>

#include <set>

namespace hafs::mount {
namespace {

const std::vector<std::string> kReplicas = {"a:1", "b:1", "c:1"};

TEST(ReplicaPicker, RoundRobinSpreadsFirstChoice) {
  ReplicaPicker picker;
  std::set<size_t> firsts;
  for (int i = 0; i < 3; ++i) {
    auto order = picker.Order(kReplicas, 0);
    ASSERT_EQ(order.size(), 3u);
    firsts.insert(order[0]);
  }
  EXPECT_EQ(firsts.size(), 3u);
}

TEST(ReplicaPicker, PrefersLeastOutstanding) {
  ReplicaPicker picker;
  picker.Started("a:1");
  picker.Started("b:1");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(picker.Order(kReplicas, 0)[0], 2u);
  picker.Finished("a:1");
  picker.Finished("b:1");
}

TEST(ReplicaPicker, SuspectGoesLastUntilItExpires) {
  ReplicaPicker picker(/*suspect_ms=*/1000);
  picker.Failed("b:1", 100);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(picker.Order(kReplicas, 500).back(), 1u);
  std::set<size_t> firsts;
  for (int i = 0; i < 3; ++i) firsts.insert(picker.Order(kReplicas, 1100)[0]);
  EXPECT_EQ(firsts.size(), 3u);
}

TEST(ReplicaPicker, EveryReplicaAppearsOnce) {
  ReplicaPicker picker;
  picker.Failed("a:1", 0);
  auto order = picker.Order(kReplicas, 1);
  EXPECT_EQ(std::set<size_t>(order.begin(), order.end()).size(), 3u);
  EXPECT_TRUE(picker.Order({}, 0).empty());
}

}  // namespace
}  // namespace hafs::mount
