// Per-block checksums of chunk data: XXH3-64 over each 64 KiB block.
// The chunk file layout that stores them is in docs/design.md ("Chunk files").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace hafs {

inline constexpr uint64_t kBlockSize = 64 * 1024;
inline constexpr uint64_t kChunkSize = 64 * 1024 * 1024;
inline constexpr uint64_t kBlocksPerChunk = kChunkSize / kBlockSize;

// XXH3-64 of `data` (seed 0). A block shorter than kBlockSize is checksummed as if
// zero-padded to kBlockSize, so a block's checksum does not depend on how much of it
// was ever written.
uint64_t BlockChecksum(std::span<const std::byte> data);

// XXH3-64 of arbitrary bytes (used for op-log and checkpoint records, chunk headers).
uint64_t RecordChecksum(std::span<const std::byte> data);

}  // namespace hafs
