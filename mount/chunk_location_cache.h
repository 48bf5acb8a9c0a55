// Where the chunks of each file live, as the master last said, so reads go straight
// to chunkservers. Filled a batch of chunks at a time (GetChunks), updated from write
// leases (this mount's own writes move a chunk to a new version), and dropped when a
// replica answers ESTALE or EACCES or when open() sees that another client changed the
// file. A location whose chunk access token is 3/4 through its lifetime is asked for
// again before use, so a long read never meets an expired token. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

#include "common/proto/hafs.pb.h"
#include "common/status.h"
#include "mount/master_client.h"

namespace hafs::mount {

// Monotonic ms at which a holder of `token`, asked for at monotonic `asked_ms`, asks for a
// new one: 3/4 through the lifetime the master gave it, counted on this host's clock (the
// token's times are the master's wall clock, which may differ). Never without a token.
int64_t TokenRefreshAtMs(const wire::ChunkToken& token, int64_t asked_ms);

class ChunkLocationCache {
 public:
  static constexpr uint32_t kBatchChunks = 16;

  explicit ChunkLocationCache(MasterClient& master) : master_(master) {}

  // The location of chunk `chunk_index` of `inode` (chunk_id 0: a hole), asking the
  // master for it and the following chunks when not cached or due for a new token, as
  // `reader` (the master checks that it may read the file).
  Result<wire::ChunkLocation> Get(uint64_t inode, uint64_t chunk_index, const wire::Credentials& reader);

  // `location` as a write lease asked for at monotonic `asked_ms` gave it.
  void Put(uint64_t inode, uint64_t chunk_index, const wire::ChunkLocation& location, int64_t asked_ms);
  void ForgetChunk(uint64_t inode, uint64_t chunk_index);
  void ForgetInode(uint64_t inode);

 private:
  struct Cached {
    wire::ChunkLocation location;
    int64_t refresh_at_ms = 0;  // TokenRefreshAtMs
  };

  MasterClient& master_;
  std::mutex mutex_;
  std::unordered_map<uint64_t, std::map<uint64_t, Cached>> by_inode_;
};

}  // namespace hafs::mount
