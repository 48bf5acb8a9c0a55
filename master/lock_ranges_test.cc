#include "master/lock_ranges.h"

#include <gtest/gtest.h>

namespace hafs::master {
namespace {

const LockOwner kOwner{1, 10};

wire::LockRange Range(uint64_t start, uint64_t end, wire::LockType type) {
  wire::LockRange range;
  range.set_start(start);
  range.set_end(end);
  range.set_type(type);
  return range;
}

// "start-end:r" for each lock, in order.
std::string Show(const std::vector<HeldLock>& locks) {
  std::string text;
  for (const HeldLock& lock : locks) {
    if (!text.empty()) text += " ";
    text += std::to_string(lock.start) + "-" + (lock.end == kLockEnd ? std::string("max") : std::to_string(lock.end)) +
            (lock.type == wire::LOCK_TYPE_WRITE ? ":w" : ":r");
  }
  return text;
}

std::vector<HeldLock> Apply(std::vector<HeldLock> owned, uint64_t start, uint64_t end, wire::LockType type) {
  return ApplyRange(owned, kOwner, Range(start, end, type));
}

TEST(LockRangesTest, AnUnlockInTheMiddleSplitsALock) {
  auto locks = Apply({}, 0, 99, wire::LOCK_TYPE_WRITE);
  EXPECT_EQ(Show(locks), "0-99:w");
  EXPECT_EQ(Show(Apply(locks, 40, 59, wire::LOCK_TYPE_UNLOCK)), "0-39:w 60-99:w");
  EXPECT_EQ(Show(Apply(locks, 0, 99, wire::LOCK_TYPE_UNLOCK)), "");
  EXPECT_EQ(Show(Apply(locks, 50, kLockEnd, wire::LOCK_TYPE_UNLOCK)), "0-49:w");
  EXPECT_EQ(Show(Apply(locks, 200, 300, wire::LOCK_TYPE_UNLOCK)), "0-99:w") << "nothing held there";
}

TEST(LockRangesTest, LocksOfOneTypeThatTouchOrOverlapMerge) {
  auto locks = Apply(Apply({}, 0, 9, wire::LOCK_TYPE_READ), 10, 19, wire::LOCK_TYPE_READ);
  EXPECT_EQ(Show(locks), "0-19:r");
  EXPECT_EQ(Show(Apply(locks, 15, 30, wire::LOCK_TYPE_READ)), "0-30:r");
  EXPECT_EQ(Show(Apply(locks, 21, 30, wire::LOCK_TYPE_READ)), "0-19:r 21-30:r") << "a gap stays";
  EXPECT_EQ(Show(Apply(locks, 20, kLockEnd, wire::LOCK_TYPE_READ)), "0-max:r");
}

TEST(LockRangesTest, ADifferentTypeReplacesItsRangeOnly) {
  auto locks = Apply({}, 0, 99, wire::LOCK_TYPE_READ);
  EXPECT_EQ(Show(Apply(locks, 10, 19, wire::LOCK_TYPE_WRITE)), "0-9:r 10-19:w 20-99:r") << "upgrade of a part";
  EXPECT_EQ(Show(Apply(locks, 0, 99, wire::LOCK_TYPE_WRITE)), "0-99:w");
  auto written = Apply({}, 0, 99, wire::LOCK_TYPE_WRITE);
  EXPECT_EQ(Show(Apply(written, 50, 150, wire::LOCK_TYPE_READ)), "0-49:w 50-150:r") << "downgrade, and more";
}

TEST(LockRangesTest, ConflictsAreAnotherOwnersOverlappingLockWithAWriteInvolved) {
  HeldLock read{{2, 20}, 10, 19, wire::LOCK_TYPE_READ, 0};
  HeldLock write{{2, 20}, 10, 19, wire::LOCK_TYPE_WRITE, 0};
  EXPECT_FALSE(Conflicts(read, kOwner, Range(0, kLockEnd, wire::LOCK_TYPE_READ)));
  EXPECT_TRUE(Conflicts(read, kOwner, Range(19, 19, wire::LOCK_TYPE_WRITE)));
  EXPECT_TRUE(Conflicts(write, kOwner, Range(0, 10, wire::LOCK_TYPE_READ)));
  EXPECT_FALSE(Conflicts(write, kOwner, Range(20, kLockEnd, wire::LOCK_TYPE_WRITE)));
  EXPECT_FALSE(Conflicts(write, {2, 20}, Range(0, kLockEnd, wire::LOCK_TYPE_WRITE))) << "its own lock";
  EXPECT_TRUE(Conflicts(write, {3, 20}, Range(0, kLockEnd, wire::LOCK_TYPE_READ))) << "same owner id, other mount";
}

}  // namespace
}  // namespace hafs::master
