#include "mount/chunk_location_cache.h"

namespace hafs::mount {

Result<wire::ChunkLocation> ChunkLocationCache::Get(uint64_t inode, uint64_t chunk_index) {
  {
    std::lock_guard lock(mutex_);
    auto file = by_inode_.find(inode);
    if (file != by_inode_.end()) {
      auto chunk = file->second.find(chunk_index);
      if (chunk != file->second.end()) return chunk->second;
    }
  }
  wire::Envelope request;
  wire::GetChunksRequest* get = request.mutable_get_chunks();
  get->set_inode(inode);
  get->set_first_index(chunk_index);
  get->set_count(kBatchChunks);
  auto reply = master_.Call(std::move(request));
  if (!reply) return Fail(reply.error());
  std::lock_guard lock(mutex_);
  auto& chunks = by_inode_[inode];
  for (int i = 0; i < reply->locations_size(); ++i) {
    // Keep what a write lease told us: it may be newer than this answer.
    chunks.try_emplace(chunk_index + i, reply->locations(i));
  }
  // Past the file's last chunk the master lists nothing: a hole as far as reads go.
  if (reply->locations_size() == 0) return wire::ChunkLocation();
  return chunks[chunk_index];
}

void ChunkLocationCache::Put(uint64_t inode, uint64_t chunk_index, const wire::ChunkLocation& location) {
  std::lock_guard lock(mutex_);
  by_inode_[inode][chunk_index] = location;
}

void ChunkLocationCache::ForgetChunk(uint64_t inode, uint64_t chunk_index) {
  std::lock_guard lock(mutex_);
  auto file = by_inode_.find(inode);
  if (file != by_inode_.end()) file->second.erase(chunk_index);
}

void ChunkLocationCache::ForgetInode(uint64_t inode) {
  std::lock_guard lock(mutex_);
  by_inode_.erase(inode);
}

}  // namespace hafs::mount
