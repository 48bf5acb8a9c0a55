// What a chunkserver's mode (wire::ChunkserverMode, set by `hafs maintenance` and `hafs
// decommission`, kept in ChunkRegistry) means for self-healing and placement
// (docs/design.md, "Self-healing"):
//   normal        its replicas count toward their chunks' goals while it is up; it takes
//                 new chunks and copies.
//   maintenance   its replicas at their chunk's version count even while it is down, so a
//                 planned restart starts no copies; it takes no new chunks and no copies
//                 (it may go away any moment). Clients read only from up chunkservers, so
//                 they avoid it while it is down all the same.
//   decommission  its replicas are read (by clients, and as copy sources) while it is up,
//                 but never count, so every chunk on it is copied elsewhere, fewest
//                 counting copies first; once a chunk has its goal on up chunkservers
//                 without it, its replica there is dropped. No new chunks, no copies.
// A chunk's version still moves on with every write lease, so a replica that misses a
// write (its chunkserver down in maintenance) is stale, counts for nothing and is
// replaced: maintenance protects only chunks that do not change meanwhile.
#pragma once

#include <cstdint>

#include "master/chunk_registry.h"

namespace hafs::master {

// Whether `replica` counts toward the goal of `chunk` (it is at the chunk's version, and
// its chunkserver is up and not being decommissioned, or in maintenance).
bool CountsTowardGoal(const ChunkRegistry& registry, const ChunkState& chunk, const Replica& replica, int64_t now_ms);
// Whether it counts and its chunkserver is up. Trimming and decommission drops judge by
// these: a replica is never dropped on the strength of one that is down, even in maintenance.
bool CountsAndIsUp(const ChunkRegistry& registry, const ChunkState& chunk, const Replica& replica, int64_t now_ms);
// Whether it can be read now, whatever the mode: at the chunk's version on an up chunkserver.
bool Readable(const ChunkRegistry& registry, const ChunkState& chunk, const Replica& replica, int64_t now_ms);
bool AnyReadable(const ChunkRegistry& registry, const ChunkState& chunk, int64_t now_ms);
// Whether `chunkserver` may receive new chunks and self-healing copies: up, not full, normal.
bool TakesNewChunks(const ChunkRegistry& registry, const ChunkserverState& chunkserver, int64_t now_ms);

}  // namespace hafs::master
