#include "common/block_checksum.h"

#include <gtest/gtest.h>

#include <vector>

namespace hafs {
namespace {

std::span<const std::byte> Bytes(const std::vector<char>& data) { return std::as_bytes(std::span(data)); }

TEST(BlockChecksum, ShortBlockEqualsZeroPaddedBlock) {
  std::vector<char> short_block(1000, 'x');
  std::vector<char> padded(kBlockSize, 0);
  std::fill(padded.begin(), padded.begin() + 1000, 'x');
  EXPECT_EQ(BlockChecksum(Bytes(short_block)), BlockChecksum(Bytes(padded)));
}

TEST(BlockChecksum, OneFlippedBitChangesTheChecksum) {
  std::vector<char> block(kBlockSize, 'a');
  uint64_t before = BlockChecksum(Bytes(block));
  block[12345] ^= 1;
  EXPECT_NE(before, BlockChecksum(Bytes(block)));
}

TEST(BlockChecksum, EmptyBlockIsAllZeros) {
  std::vector<char> zeros(kBlockSize, 0);
  EXPECT_EQ(BlockChecksum({}), BlockChecksum(Bytes(zeros)));
}

}  // namespace
}  // namespace hafs
