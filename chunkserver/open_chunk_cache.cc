#include "chunkserver/open_chunk_cache.h"

namespace hafs {

std::shared_ptr<ChunkFile> OpenChunkCache::Get(uint64_t chunk_id) {
  std::lock_guard lock(mutex_);
  auto found = slots_.find(chunk_id);
  if (found == slots_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, found->second.position);
  return found->second.file;
}

void OpenChunkCache::Put(uint64_t chunk_id, std::shared_ptr<ChunkFile> file) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mutex_);
  auto found = slots_.find(chunk_id);
  if (found != slots_.end()) {
    found->second.file = std::move(file);
    lru_.splice(lru_.begin(), lru_, found->second.position);
    return;
  }
  if (slots_.size() == capacity_) {
    slots_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(chunk_id);
  slots_.emplace(chunk_id, Slot{std::move(file), lru_.begin()});
}

void OpenChunkCache::Erase(uint64_t chunk_id) {
  std::lock_guard lock(mutex_);
  auto found = slots_.find(chunk_id);
  if (found == slots_.end()) return;
  lru_.erase(found->second.position);
  slots_.erase(found);
}

}  // namespace hafs
