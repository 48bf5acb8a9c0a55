// Chunks placed ahead for mounts' write-back files (docs/design.md, "Placements granted
// ahead"): a chunk id and a chain of chunkservers the master picked, granted to a session
// with a write token before any file has the chunk. The mount writes a new file's first bytes
// there with no round trip to the master, and attaches the chunk to the file (AttachChunk)
// in the batch that ships the file's changes. Logged (ChunksPlaced) and checkpointed, so every
// master knows whose each placed chunk is; an attach takes it out, so no chunk is attached
// twice; one left unattached past its time is dropped (PlacementsExpired), and its bytes, if
// any reached a chunkserver, go as any orphan replica does.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/proto/hafs.pb.h"

namespace hafs::master {

class ChunkPlacements {
 public:
  // Bounds: a session holds at most kMaxPerSession placements not attached, asks at most
  // kMaxPerGrant at a time, and all sessions together hold at most kMaxTotal.
  static constexpr uint32_t kMaxPerSession = 4096;
  static constexpr uint32_t kMaxPerGrant = 64;
  static constexpr size_t kMaxTotal = 65536;

  struct Placement {
    uint64_t session = 0;
    uint32_t goal = 0;
    std::vector<std::string> replica_uuids;  // the chain, in order
    int64_t expiry_ms = 0;                   // monotonic, on this master
  };

  // How many of `want` placements `session` may be granted now.
  uint32_t MayGrant(uint64_t session, uint32_t want) const;
  // Records `placed` (a ChunksPlaced record), each good until `expiry_ms`.
  void Add(const wire::ChunksPlaced& placed, int64_t expiry_ms);
  // The placement of `chunk_id`, or null.
  const Placement* Find(uint64_t chunk_id) const;
  bool Holds(uint64_t chunk_id) const { return placements_.contains(chunk_id); }
  // Takes `chunk_id` out (it was attached, or it expired).
  void Take(uint64_t chunk_id);
  // The chunks whose time is up at `now_ms`, at most `limit` of them.
  std::vector<uint64_t> Expired(int64_t now_ms, size_t limit) const;
  // Every placement still held, grouped by session and goal, for a checkpoint; Add restores them.
  std::vector<wire::ChunksPlaced> All() const;
  void Clear();
  size_t size() const { return placements_.size(); }

 private:
  std::unordered_map<uint64_t, Placement> placements_;  // by chunk id
  std::unordered_map<uint64_t, uint32_t> per_session_;
};

}  // namespace hafs::master
