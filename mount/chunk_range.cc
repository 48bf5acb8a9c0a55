#include "mount/chunk_range.h"

#include <algorithm>

namespace hafs::mount {

std::vector<ChunkPiece> SplitIntoChunks(uint64_t offset, uint64_t length, uint64_t chunk_size) {
  std::vector<ChunkPiece> pieces;
  uint64_t done = 0;
  while (done < length) {
    uint64_t position = offset + done;
    uint64_t offset_in_chunk = position % chunk_size;
    uint64_t piece_length = std::min(length - done, chunk_size - offset_in_chunk);
    pieces.push_back({position / chunk_size, offset_in_chunk, piece_length, done});
    done += piece_length;
  }
  return pieces;
}

}  // namespace hafs::mount
