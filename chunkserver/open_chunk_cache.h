// A bounded cache of open chunk files (least recently used goes first), so that a
// stream of small reads and writes does not open and parse a chunk file each time.
// A file handed out stays valid while its holder keeps the shared_ptr, even if the
// cache drops it meanwhile. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "chunkserver/chunk_file.h"

namespace hafs {

class OpenChunkCache {
 public:
  explicit OpenChunkCache(size_t capacity) : capacity_(capacity) {}

  // The cached file of `chunk_id`, or null.
  std::shared_ptr<ChunkFile> Get(uint64_t chunk_id);
  void Put(uint64_t chunk_id, std::shared_ptr<ChunkFile> file);
  void Erase(uint64_t chunk_id);

 private:
  using Lru = std::list<uint64_t>;  // most recently used first
  struct Slot {
    std::shared_ptr<ChunkFile> file;
    Lru::iterator position;
  };

  const size_t capacity_;
  std::mutex mutex_;
  Lru lru_;
  std::unordered_map<uint64_t, Slot> slots_;
};

}  // namespace hafs
