// The chunk arithmetic of fallocate(2) (docs/design.md, "fallocate"), shared by the
// master (which chunks a punched hole drops) and the mount (which chunks it reserves or
// zeroes on the replicas), so both sides agree on every range.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"

namespace hafs {

// A byte range inside one chunk: [offset, offset + length) of chunk `chunk_index`.
struct ChunkSpan {
  uint64_t chunk_index = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const ChunkSpan&) const = default;
};

// EINVAL for an empty range, EFBIG for one that passes the largest file (kMaxFileBytes).
Status CheckFallocateRange(uint64_t offset, uint64_t length);

// Punching [offset, offset + length) in a file whose bytes end at `extent` (its size, or
// the end of the space reserved past it). Only the range's part below the extent matters:
// past it there are no bytes to free.
struct PunchPlan {
  // Chunks [first_dropped, end_dropped) hold no byte of the file outside the range: the
  // master drops them. Empty when first_dropped == end_dropped.
  uint64_t first_dropped = 0;
  uint64_t end_dropped = 0;
  // The rest of the range, at most one piece at each end: zeroed on every replica.
  std::vector<ChunkSpan> zeroed;
};
PunchPlan PlanPunch(uint64_t offset, uint64_t length, uint64_t extent);

}  // namespace hafs
