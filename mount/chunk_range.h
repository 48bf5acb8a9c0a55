// Splitting a file byte range into per-chunk pieces (chunks are kChunkSize bytes).
#pragma once

#include <cstdint>
#include <vector>

namespace hafs::mount {

struct ChunkPiece {
  uint64_t chunk_index;
  uint64_t offset_in_chunk;
  uint64_t length;
  uint64_t buffer_offset;  // where this piece starts in the caller's buffer
};

// The pieces of [offset, offset + length), in file order; empty when length is 0.
std::vector<ChunkPiece> SplitIntoChunks(uint64_t offset, uint64_t length, uint64_t chunk_size);

}  // namespace hafs::mount
