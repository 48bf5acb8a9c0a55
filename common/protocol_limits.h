// Bounds on what a peer may ask for, checked before any handler runs (common/message_codec,
// common/rpc, the chunkserver's fence). Each one keeps a single request from sizing a
// daemon's memory or moving its state out of range; docs/design.md ("Bad input") lists them.
#pragma once

#include <cstdint>

#include "common/block_checksum.h"

namespace hafs {

// The largest file: 16 TiB, as ext4 with 4 KiB blocks. The master keeps a file's chunk ids
// in a dense table, so the largest chunk index (2^18) bounds one file's table at 2 MiB; a
// write, truncate or lease past it is EFBIG.
inline constexpr uint64_t kMaxFileBytes = 16ULL << 40;
inline constexpr uint64_t kMaxChunksPerFile = kMaxFileBytes / kChunkSize;

// The last byte a file lock can cover: "to the end of the file", whatever its size (the
// kernel's OFFSET_MAX). A lock range past it is EINVAL (master/lock_table.h).
inline constexpr uint64_t kLockEnd = INT64_MAX;

// Epochs count takeovers, one at a time. An epoch more than kEpochWindow above the highest
// one a process learned from a master (its own state, a registration or heartbeat answer, a
// lease it granted) is a lie, refused as EINVAL, so no single message can raise a fence out
// of the masters' reach; and no epoch passes kMaxEpoch, so the next one can never wrap.
inline constexpr uint64_t kEpochWindow = 1000;
inline constexpr uint64_t kMaxEpoch = 1ULL << 62;

// True when a peer's `epoch` is one this process may believe, given the highest epoch it
// learned from a master. A process that learned none (a chunkserver before it registered)
// believes only the first kEpochWindow epochs: it learns the real one within a heartbeat.
constexpr bool EpochBelievable(uint64_t epoch, uint64_t highest_learned) {
  return epoch <= kMaxEpoch && epoch <= highest_learned + kEpochWindow;
}

}  // namespace hafs
