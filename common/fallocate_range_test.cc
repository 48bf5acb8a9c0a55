#include "common/fallocate_range.h"

#include <gtest/gtest.h>

#include "common/block_checksum.h"
#include "common/protocol_limits.h"

namespace hafs {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

TEST(FallocateRangeTest, EmptyRangesAreInvalidAndRangesPastTheLargestFileTooBig) {
  EXPECT_EQ(CheckFallocateRange(0, 0).error(), EINVAL);
  EXPECT_TRUE(CheckFallocateRange(0, kMaxFileBytes).ok());
  EXPECT_EQ(CheckFallocateRange(1, kMaxFileBytes).error(), EFBIG);
  EXPECT_EQ(CheckFallocateRange(kMaxFileBytes + 1, 1).error(), EFBIG);
  EXPECT_EQ(CheckFallocateRange(UINT64_MAX, UINT64_MAX).error(), EFBIG);  // no wrap-around
}

TEST(FallocateRangeTest, AHoleInsideOneChunkZeroesItAndDropsNothing) {
  PunchPlan plan = PlanPunch(kMiB, kMiB, 8 * kMiB);
  EXPECT_EQ(plan.first_dropped, plan.end_dropped);
  ASSERT_EQ(plan.zeroed.size(), 1u);
  EXPECT_EQ(plan.zeroed[0], (ChunkSpan{0, kMiB, kMiB}));
}

TEST(FallocateRangeTest, WholeChunksAreDroppedAndTheEndsZeroed) {
  // From the middle of chunk 0 to the middle of chunk 3, in a file of 5 chunks.
  PunchPlan plan = PlanPunch(kChunkSize / 2, 3 * kChunkSize, 5 * kChunkSize);
  EXPECT_EQ(plan.first_dropped, 1u);
  EXPECT_EQ(plan.end_dropped, 3u);
  ASSERT_EQ(plan.zeroed.size(), 2u);
  EXPECT_EQ(plan.zeroed[0], (ChunkSpan{0, kChunkSize / 2, kChunkSize / 2}));
  EXPECT_EQ(plan.zeroed[1], (ChunkSpan{3, 0, kChunkSize / 2}));
}

TEST(FallocateRangeTest, AChunkCoveredToTheFilesEndIsDropped) {
  // The file ends inside chunk 1; the hole runs from chunk 1's start past the end.
  PunchPlan plan = PlanPunch(kChunkSize, kChunkSize * 4, kChunkSize + kMiB);
  EXPECT_EQ(plan.first_dropped, 1u);
  EXPECT_EQ(plan.end_dropped, 2u);
  EXPECT_TRUE(plan.zeroed.empty());
  // The same from inside chunk 1: its head holds file bytes, so it is zeroed, not dropped.
  plan = PlanPunch(kChunkSize + 10, kChunkSize * 4, kChunkSize + kMiB);
  EXPECT_EQ(plan.first_dropped, plan.end_dropped);
  ASSERT_EQ(plan.zeroed.size(), 1u);
  EXPECT_EQ(plan.zeroed[0], (ChunkSpan{1, 10, kMiB - 10}));
}

TEST(FallocateRangeTest, AHoleAlignedOnChunksZeroesNothing) {
  PunchPlan plan = PlanPunch(kChunkSize, 2 * kChunkSize, 10 * kChunkSize);
  EXPECT_EQ(plan.first_dropped, 1u);
  EXPECT_EQ(plan.end_dropped, 3u);
  EXPECT_TRUE(plan.zeroed.empty());
}

TEST(FallocateRangeTest, AHolePastTheFilesEndDoesNothing) {
  PunchPlan plan = PlanPunch(10 * kMiB, kMiB, 10 * kMiB);
  EXPECT_EQ(plan.first_dropped, plan.end_dropped);
  EXPECT_TRUE(plan.zeroed.empty());
}

TEST(FallocateRangeTest, AHoleAcrossOneChunkBoundaryZeroesBothSides) {
  PunchPlan plan = PlanPunch(kChunkSize - kMiB, 2 * kMiB, 3 * kChunkSize);
  EXPECT_EQ(plan.first_dropped, plan.end_dropped);
  ASSERT_EQ(plan.zeroed.size(), 2u);
  EXPECT_EQ(plan.zeroed[0], (ChunkSpan{0, kChunkSize - kMiB, kMiB}));
  EXPECT_EQ(plan.zeroed[1], (ChunkSpan{1, 0, kMiB}));
}

}  // namespace
}  // namespace hafs
