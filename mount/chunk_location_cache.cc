#include "mount/chunk_location_cache.h"

#include <algorithm>
#include <limits>

#include "common/clock.h"

namespace hafs::mount {

int64_t TokenRefreshAtMs(const wire::ChunkToken& token, int64_t asked_ms) {
  if (token.mac().empty()) return std::numeric_limits<int64_t>::max();  // tokens are off
  int64_t lifetime_ms = token.expiry_ms() - token.issued_ms();
  return asked_ms + std::max<int64_t>(0, lifetime_ms / 4 * 3);
}

Result<wire::ChunkLocation> ChunkLocationCache::Get(uint64_t inode, uint64_t chunk_index,
                                                    const wire::Credentials& reader) {
  {
    std::lock_guard lock(mutex_);
    auto file = by_inode_.find(inode);
    if (file != by_inode_.end()) {
      auto chunk = file->second.find(chunk_index);
      if (chunk != file->second.end() && MonotonicMs() < chunk->second.refresh_at_ms) return chunk->second.location;
    }
  }
  wire::Envelope request;
  wire::GetChunksRequest* get = request.mutable_get_chunks();
  get->set_inode(inode);
  get->set_first_index(chunk_index);
  get->set_count(kBatchChunks);
  *get->mutable_credentials() = reader;
  int64_t asked_ms = MonotonicMs();
  auto reply = master_.Call(std::move(request));
  if (!reply) return Fail(reply.error());
  std::lock_guard lock(mutex_);
  auto& chunks = by_inode_[inode];
  int64_t now_ms = MonotonicMs();
  for (int i = 0; i < reply->locations_size(); ++i) {
    const wire::ChunkLocation& location = reply->locations(i);
    Cached fresh{location, TokenRefreshAtMs(location.token(), asked_ms)};
    auto [chunk, added] = chunks.try_emplace(chunk_index + i, fresh);
    // Keep what a write lease told us, while its token lasts: it may be newer than this answer.
    if (!added && now_ms >= chunk->second.refresh_at_ms) chunk->second = std::move(fresh);
  }
  // Past the file's last chunk the master lists nothing: a hole as far as reads go.
  if (reply->locations_size() == 0) return wire::ChunkLocation();
  return chunks[chunk_index].location;
}

void ChunkLocationCache::Put(uint64_t inode, uint64_t chunk_index, const wire::ChunkLocation& location,
                             int64_t asked_ms) {
  std::lock_guard lock(mutex_);
  by_inode_[inode][chunk_index] = {location, TokenRefreshAtMs(location.token(), asked_ms)};
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
