#include "common/fallocate_range.h"

#include <algorithm>
#include <cerrno>

#include "common/block_checksum.h"
#include "common/protocol_limits.h"

namespace hafs {

namespace {

// The part of the file range [offset, end) that lies in chunk `chunk_index`.
ChunkSpan SpanInChunk(uint64_t offset, uint64_t end, uint64_t chunk_index) {
  uint64_t chunk_start = chunk_index * kChunkSize;
  uint64_t from = std::max(offset, chunk_start);
  uint64_t to = std::min(end, chunk_start + kChunkSize);
  return ChunkSpan{chunk_index, from - chunk_start, to - from};
}

}  // namespace

Status CheckFallocateRange(uint64_t offset, uint64_t length) {
  if (length == 0) return Status::Error(EINVAL, "fallocate of an empty range");
  if (offset > kMaxFileBytes || length > kMaxFileBytes - offset) {
    return Status::Error(EFBIG, "fallocate range passes the largest file (16 TiB)");
  }
  return Status::Ok();
}

PunchPlan PlanPunch(uint64_t offset, uint64_t length, uint64_t extent) {
  PunchPlan plan;
  uint64_t end = std::min(offset + length, extent);
  if (offset >= end) return plan;
  // A chunk is dropped when the range covers it from its start to its end, or to the
  // file's end when that comes first.
  plan.first_dropped = (offset + kChunkSize - 1) / kChunkSize;
  plan.end_dropped = end == extent ? (extent + kChunkSize - 1) / kChunkSize : end / kChunkSize;
  plan.end_dropped = std::max(plan.end_dropped, plan.first_dropped);
  auto zero = [&](uint64_t chunk_index) {
    if (chunk_index >= plan.first_dropped && chunk_index < plan.end_dropped) return;
    if (!plan.zeroed.empty() && plan.zeroed.back().chunk_index == chunk_index) return;
    plan.zeroed.push_back(SpanInChunk(offset, end, chunk_index));
  };
  zero(offset / kChunkSize);
  zero((end - 1) / kChunkSize);
  return plan;
}

}  // namespace hafs
