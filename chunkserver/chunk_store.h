// The chunks of this chunkserver: its data directories, the index of the chunk files in
// them, free space, and the lost-replica list for heartbeats.
//
// Directory layout (docs/notes/chunkserver.md): the first data directory holds
// `chunkserver.uuid` (this chunkserver's stable identity); chunk C lives in
// `<data dir>/<C mod 256 as 2 hex digits>/<C as 16 hex digits>.chunk` (format in
// chunk_file.h). A new chunk goes to the data directory with the most free space.
//
// Thread-safe: many data-service workers call it at once. Each chunk has its own
// lock, held for the whole of an operation on it; the index lock is held only to
// find or add an entry (always taken after, never before, a chunk lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "chunkserver/open_chunk_cache.h"
#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs {

struct ChunkStoreOptions {
  std::vector<std::string> data_dirs;
  uint64_t reserve_bytes = 256ull << 20;  // writes that would leave less free space fail with ENOSPC
  size_t open_files = 512;                // chunk files kept open
};

class ChunkStore {
 public:
  // Checks that every data directory exists and is writable (the error names the one
  // that is not), reads or creates the uuid and indexes the chunk files.
  static Result<std::unique_ptr<ChunkStore>> Open(ChunkStoreOptions options);

  const std::string& uuid() const { return uuid_; }

  // Reads into `out` (see ChunkFile::Read); returns the chunk's stored length. ENOENT for
  // an unknown chunk. A checksum mismatch (EBADMSG) also lists the replica as lost.
  // ReadMode::kNoWait never waits: EAGAIN, and nothing else done, when the chunk's lock is
  // held, its file is not open in the cache or its data is not in the page cache.
  Result<uint64_t> Read(uint64_t chunk_id, uint64_t chunk_version, uint64_t offset, std::span<std::byte> out,
                        ReadMode mode = ReadMode::kMayBlock);
  // Writes, creating the chunk if it is missing. ENOSPC when the write would leave less
  // than the reserve free.
  Status Write(uint64_t chunk_id, uint64_t chunk_version, uint64_t offset, std::span<const std::byte> data);
  Status Truncate(uint64_t chunk_id, uint64_t chunk_version, uint64_t new_length);
  Status Sync(uint64_t chunk_id);
  Status Delete(uint64_t chunk_id);

  std::vector<wire::ChunkReport> Chunks();
  uint64_t ChunkCount();
  // total and free over the distinct file systems of the data directories; used = bytes
  // of chunk data stored.
  wire::DiskSpace Space();
  // No data directory can take another full chunk above the reserve.
  bool Full();
  // Replicas found corrupt since the last call; PutBackLostChunks when they could not be
  // reported.
  std::vector<wire::ChunkReport> TakeLostChunks();
  void PutBackLostChunks(const std::vector<wire::ChunkReport>& chunks);

  // For the scrubber (scrubber.h): the ids of the chunks in the index, ascending.
  std::vector<uint64_t> ChunkIds();
  struct ScrubbedPiece {
    uint64_t chunk_version = 0;
    uint64_t blocks_read = 0;  // verified by this call; 0 once first_block is past the data
    uint64_t block_count = 0;  // blocks of stored data the chunk has now
  };
  // Reads and verifies whole blocks of the chunk's stored data from `first_block`, as many
  // as fit in `buffer` (a multiple of kBlockSize), at whatever version the chunk has now.
  // Holds the chunk's lock for this piece only. ENOENT when the chunk is gone; a checksum
  // mismatch is EBADMSG and lists the replica as lost, exactly as a failed Read does.
  Result<ScrubbedPiece> ScrubBlocks(uint64_t chunk_id, uint64_t first_block, std::span<std::byte> buffer);

 private:
  struct Entry {
    std::mutex mutex;
    size_t dir_index = 0;
    uint64_t chunk_version = 0;
    uint64_t data_length = 0;
    bool present = false;  // the file exists (false while being created)
    bool removed = false;  // no longer in the index: look the chunk up again
  };

  friend class ChunkStoreTestPeer;  // holds a chunk's lock, as a writer would

  explicit ChunkStore(ChunkStoreOptions options) : options_(std::move(options)), open_files_(options_.open_files) {}
  Status LoadOrCreateUuid();
  void Scan(size_t dir_index);
  std::shared_ptr<Entry> Find(uint64_t chunk_id);
  std::shared_ptr<Entry> FindOrAdd(uint64_t chunk_id);
  void Remove(uint64_t chunk_id, const std::shared_ptr<Entry>& entry);
  // Calls `visit` for every present chunk, holding its lock.
  void ForEachChunk(const std::function<void(uint64_t chunk_id, const Entry& entry)>& visit);
  std::string ChunkPath(size_t dir_index, uint64_t chunk_id) const;
  // The chunk's file from the open-file cache, else opened and cached; with
  // ReadMode::kNoWait only from the cache (EAGAIN when it is not there).
  Result<std::shared_ptr<ChunkFile>> OpenFile(uint64_t chunk_id, Entry& entry, ReadMode mode = ReadMode::kMayBlock);
  Status CreateFile(uint64_t chunk_id, uint64_t chunk_version, Entry& entry);
  Status CheckSpace(size_t dir_index, uint64_t growth_bytes);
  // Runs `change` on the chunk's file under its lock, creating the chunk if missing, and
  // keeps the index in step with what the file says afterwards.
  Status Modify(uint64_t chunk_id, uint64_t chunk_version,
                const std::function<Status(Entry& entry, ChunkFile& file)>& change);
  // Passes `status` through, noting a checksum failure as a lost replica.
  Status NoteCorruption(uint64_t chunk_id, uint64_t chunk_version, Status status);

  const ChunkStoreOptions options_;
  std::string uuid_;
  OpenChunkCache open_files_;
  std::mutex index_mutex_;
  std::unordered_map<uint64_t, std::shared_ptr<Entry>> index_;
  std::mutex lost_mutex_;
  std::vector<wire::ChunkReport> lost_;
};

}  // namespace hafs
