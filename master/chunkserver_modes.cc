#include "master/chunkserver_modes.h"

#include <algorithm>

namespace hafs::master {
namespace {

const ChunkserverState* Holder(const ChunkRegistry& registry, const Replica& replica) {
  auto chunkserver = registry.chunkservers().find(replica.chunkserver_id);
  return chunkserver == registry.chunkservers().end() ? nullptr : &chunkserver->second;
}

bool HolderUp(const ChunkRegistry& registry, const Replica& replica, int64_t now_ms) {
  const ChunkserverState* chunkserver = Holder(registry, replica);
  return chunkserver != nullptr && registry.IsUp(*chunkserver, now_ms);
}

}  // namespace

bool CountsTowardGoal(const ChunkRegistry& registry, const ChunkState& chunk, const Replica& replica, int64_t now_ms) {
  if (replica.version != chunk.version) return false;
  switch (registry.Mode(replica.chunkserver_id)) {
    case wire::MODE_MAINTENANCE:
      return true;
    case wire::MODE_DECOMMISSION:
      return false;
    default:
      return HolderUp(registry, replica, now_ms);
  }
}

bool CountsAndIsUp(const ChunkRegistry& registry, const ChunkState& chunk, const Replica& replica, int64_t now_ms) {
  return CountsTowardGoal(registry, chunk, replica, now_ms) && HolderUp(registry, replica, now_ms);
}

bool Readable(const ChunkRegistry& registry, const ChunkState& chunk, const Replica& replica, int64_t now_ms) {
  return replica.version == chunk.version && HolderUp(registry, replica, now_ms);
}

bool AnyReadable(const ChunkRegistry& registry, const ChunkState& chunk, int64_t now_ms) {
  return std::any_of(chunk.replicas.begin(), chunk.replicas.end(),
                     [&](const Replica& replica) { return Readable(registry, chunk, replica, now_ms); });
}

bool TakesNewChunks(const ChunkRegistry& registry, const ChunkserverState& chunkserver, int64_t now_ms) {
  return registry.IsUp(chunkserver, now_ms) && !chunkserver.full && registry.Mode(chunkserver.id) == wire::MODE_NORMAL;
}

}  // namespace hafs::master
