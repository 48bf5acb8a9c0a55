// Where the chunks of each file live, as the master last said, so reads go straight
// to chunkservers. Filled a batch of chunks at a time (GetChunks), updated from write
// leases (this mount's own writes move a chunk to a new version), and dropped when a
// replica answers ESTALE or when open() sees that another client changed the file.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

#include "common/proto/hafs.pb.h"
#include "common/status.h"
#include "mount/master_client.h"

namespace hafs::mount {

class ChunkLocationCache {
 public:
  static constexpr uint32_t kBatchChunks = 16;

  explicit ChunkLocationCache(MasterClient& master) : master_(master) {}

  // The location of chunk `chunk_index` of `inode` (chunk_id 0: a hole), asking the
  // master for it and the following chunks when not cached.
  Result<wire::ChunkLocation> Get(uint64_t inode, uint64_t chunk_index);

  void Put(uint64_t inode, uint64_t chunk_index, const wire::ChunkLocation& location);
  void ForgetChunk(uint64_t inode, uint64_t chunk_index);
  void ForgetInode(uint64_t inode);

 private:
  MasterClient& master_;
  std::mutex mutex_;
  std::unordered_map<uint64_t, std::map<uint64_t, wire::ChunkLocation>> by_inode_;
};

}  // namespace hafs::mount
