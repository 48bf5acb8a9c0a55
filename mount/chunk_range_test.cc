#include "mount/chunk_range.h"

#include <gtest/gtest.h>

namespace hafs::mount {
namespace {

constexpr uint64_t kChunk = 64ULL << 20;

TEST(SplitIntoChunks, EmptyRangeHasNoPieces) { EXPECT_TRUE(SplitIntoChunks(123, 0, kChunk).empty()); }

TEST(SplitIntoChunks, RangeInsideOneChunk) {
  auto pieces = SplitIntoChunks(kChunk + 10, 100, kChunk);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].chunk_index, 1u);
  EXPECT_EQ(pieces[0].offset_in_chunk, 10u);
  EXPECT_EQ(pieces[0].length, 100u);
  EXPECT_EQ(pieces[0].buffer_offset, 0u);
}

TEST(SplitIntoChunks, RangeAcrossABoundary) {
  auto pieces = SplitIntoChunks(kChunk - 4096, 8192, kChunk);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].chunk_index, 0u);
  EXPECT_EQ(pieces[0].offset_in_chunk, kChunk - 4096);
  EXPECT_EQ(pieces[0].length, 4096u);
  EXPECT_EQ(pieces[1].chunk_index, 1u);
  EXPECT_EQ(pieces[1].offset_in_chunk, 0u);
  EXPECT_EQ(pieces[1].length, 4096u);
  EXPECT_EQ(pieces[1].buffer_offset, 4096u);
}

TEST(SplitIntoChunks, WholeChunksAndOffsetsBeyondFourGiB) {
  uint64_t offset = 5ULL << 30;  // 5 GiB, a chunk boundary
  auto pieces = SplitIntoChunks(offset, 3 * kChunk, kChunk);
  ASSERT_EQ(pieces.size(), 3u);
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_EQ(pieces[i].chunk_index, offset / kChunk + i);
    EXPECT_EQ(pieces[i].offset_in_chunk, 0u);
    EXPECT_EQ(pieces[i].length, kChunk);
    EXPECT_EQ(pieces[i].buffer_offset, i * kChunk);
  }
}

}  // namespace
}  // namespace hafs::mount
