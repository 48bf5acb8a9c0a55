// The chunks of this chunkserver: its data directories, the index of the chunk files in
// them, free space, and the lost-replica list for heartbeats.
//
// Directory layout (docs/design.md, "Chunk file layout"): the first data directory holds
// `chunkserver.uuid` (this chunkserver's stable identity); chunk C lives in
// `<data dir>/<C mod 256 as 2 hex digits>/<C as 16 hex digits>.chunk` (format in
// chunk_file.h). A new chunk goes to the data directory in service with the most free space.
// Subdirectories are made 0700, files 0600.
//
// Corrupt files: a chunk file that does not open as the chunk its name says (a damaged
// header or table, or a header naming another chunk, or another version than the index
// holds: a file moved or copied over the name) is checked when the store scans its
// directories at start and whenever it opens the file. It is reported lost like a replica
// failing a checksum and stays in the index as corrupt: never served (the open that finds
// it fails with EBADMSG, later calls get ENOENT) nor registered, and refused for writes
// (EIO), until the master deletes it or a copy replaces it.
//
// Failing data directories (docs/design.md, "Failing data directories"): an operation on
// a chunk that fails with a disk error (disk_error_window.h says which) reports that
// replica lost and drops it from the index, and counts against its directory. A directory
// whose errors reach the threshold is taken out of service for the life of the process (a
// restart puts a repaired disk back and registers what it still holds; one that still
// fails stops the restart, naming it). From then on its chunks are invisible: reads,
// syncs and the scrubber get ENOENT, writes to them EIO (a write must not recreate
// elsewhere a chunk whose other bytes are gone). It takes no new chunk and is left out of
// Space, Full and Chunks. An operation that held a chunk's lock when its directory went
// out finishes, most likely with the disk's error, and its client fails over to another
// replica as for any failed replica. The chunks are reported lost by the next
// TakeLostChunks, which the master link calls before every heartbeat, outside the chunk
// lock the failing operation held: the master drops those replicas and copies them
// elsewhere. Nothing is deleted from the directory. With every directory out of service
// the store is Full and keeps answering.
//
// Thread-safe: many data-service workers call it at once. Each chunk has its own
// lock, held for the whole of an operation on it; the index lock is held only to
// find or add an entry (always taken after, never before, a chunk lock).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "chunkserver/disk_error_window.h"
#include "chunkserver/open_chunk_cache.h"
#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs {

struct ChunkStoreOptions {
  std::vector<std::string> data_dirs;
  uint64_t reserve_bytes = 256ull << 20;  // writes that would leave less free space fail with ENOSPC
  size_t open_files = 512;                // chunk files kept open
  // Disk errors (EIO, EUCLEAN) within the window that take a data directory out of
  // service; EROFS, ENODEV and ENXIO do at once (disk_error_window.h).
  int disk_error_limit = 2;
  int64_t disk_error_window_ms = 600'000;
};

class ChunkStore {
 public:
  // Checks that every data directory exists and is writable (the error names the one
  // that is not), reads or creates the uuid and indexes the chunk files.
  static Result<std::unique_ptr<ChunkStore>> Open(ChunkStoreOptions options);

  const std::string& uuid() const { return uuid_; }

  // Reads into `out` (see ChunkFile::Read); returns the chunk's stored length. ENOENT for
  // an unknown chunk. A checksum mismatch (EBADMSG) also lists the replica as lost; so
  // does a disk error, which also drops it.
  // ReadMode::kNoWait never waits: EAGAIN, and nothing else done, when the chunk's lock is
  // held, its file is not open in the cache or its data is not in the page cache.
  Result<uint64_t> Read(uint64_t chunk_id, uint64_t chunk_version, uint64_t offset, std::span<std::byte> out,
                        ReadMode mode = ReadMode::kMayBlock);
  // Writes, creating the chunk if it is missing. ENOSPC when the write would leave less
  // than the reserve free; EIO for a chunk of a directory out of service, and for one
  // reported lost unless the write is a copy's (version 0).
  Status Write(uint64_t chunk_id, uint64_t chunk_version, uint64_t offset, std::span<const std::byte> data);
  Status Truncate(uint64_t chunk_id, uint64_t chunk_version, uint64_t new_length);
  // fallocate on one chunk (ChunkFile::Reserve, PunchHole); Reserve creates a missing
  // chunk and is ENOSPC like a write that would grow it as much.
  Status Reserve(uint64_t chunk_id, uint64_t chunk_version, uint64_t offset, uint64_t length);
  Status PunchHole(uint64_t chunk_id, uint64_t chunk_version, uint64_t offset, uint64_t length);
  Status Sync(uint64_t chunk_id);
  Status Delete(uint64_t chunk_id);

  std::vector<wire::ChunkReport> Chunks();
  uint64_t ChunkCount();
  // total and free over the distinct file systems of the data directories in service;
  // used = bytes of chunk data stored there.
  wire::DiskSpace Space();
  // No data directory in service can take another full chunk above the reserve.
  bool Full();
  // Replicas found corrupt or failing since the last call, and the chunks of directories
  // taken out of service since then; PutBackLostChunks when they could not be reported.
  std::vector<wire::ChunkReport> TakeLostChunks();
  void PutBackLostChunks(const std::vector<wire::ChunkReport>& chunks);
  // A replica the master counts here that is not (found by ReplicaVerifier): listed lost
  // like a corrupt one, so that the master stops counting it and copies the chunk.
  void ReportMissing(uint64_t chunk_id) { ReportLost(chunk_id, 0); }

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
    size_t dir_index = 0;  // set before `present`, never changed after
    uint64_t chunk_version = 0;
    uint64_t data_length = 0;
    bool present = false;  // the file exists (false while being created)
    bool corrupt = false;  // the file is not this chunk's (see the header comment): never served
    bool removed = false;  // no longer in the index: look the chunk up again
  };

  struct DataDir {
    DataDir(std::string path, const ChunkStoreOptions& options)
        : path(std::move(path)), errors(options.disk_error_limit, options.disk_error_window_ms) {}
    const std::string path;
    std::atomic<bool> in_service{true};  // read anywhere; set false once, under health_mutex_
    DiskErrorWindow errors;              // guarded by health_mutex_
  };

  friend class ChunkStoreTestPeer;  // holds a chunk's lock, as a writer would; fails its I/O

  explicit ChunkStore(ChunkStoreOptions options);
  Status LoadOrCreateUuid();
  void Scan(size_t dir_index);
  // Adds one chunk file found by Scan to the index (as corrupt when it is not that chunk's).
  void IndexFile(size_t dir_index, uint64_t chunk_id, const std::string& path);
  std::shared_ptr<Entry> Find(uint64_t chunk_id);
  std::shared_ptr<Entry> FindOrAdd(uint64_t chunk_id);
  void Remove(uint64_t chunk_id, Entry& entry);
  bool InService(const Entry& entry) const { return dirs_[entry.dir_index].in_service; }
  bool Served(const Entry& entry) const {
    return entry.present && !entry.removed && !entry.corrupt && InService(entry);
  }
  // OK when the entry (its lock held) is a chunk this store serves, else ENOENT.
  Status CheckServed(uint64_t chunk_id, const Entry& entry) const;
  // Calls `visit` for every chunk in the index (present, not removed), holding its lock.
  void ForEachEntry(const std::function<void(uint64_t chunk_id, Entry& entry)>& visit);
  // The same for every chunk served (in a directory in service, not corrupt).
  void ForEachChunk(const std::function<void(uint64_t chunk_id, const Entry& entry)>& visit);
  std::string ChunkPath(size_t dir_index, uint64_t chunk_id) const;
  // The chunk's file from the open-file cache, else opened, checked against the index and
  // cached; a file that fails that makes the entry corrupt. With ReadMode::kNoWait only
  // from the cache (EAGAIN when it is not there).
  Result<std::shared_ptr<ChunkFile>> OpenFile(uint64_t chunk_id, Entry& entry, ReadMode mode = ReadMode::kMayBlock);
  // Creates the chunk in the data directory in service with the most free space, passing
  // over one whose disk fails the attempt.
  Status CreateFile(uint64_t chunk_id, uint64_t chunk_version, Entry& entry);
  Status CreateFileIn(size_t dir_index, uint64_t chunk_id, uint64_t chunk_version, Entry& entry);
  Status CheckSpace(size_t dir_index, uint64_t growth_bytes);
  // CheckSpace for making [offset, end) of `file` hold bytes: what lies past its length.
  Status CheckSpaceFor(const Entry& entry, const ChunkFile& file, uint64_t offset, uint64_t end);
  // Runs `change` on the chunk's file under its lock, creating the chunk if missing, and
  // keeps the index in step with what the file says afterwards.
  Status Modify(uint64_t chunk_id, uint64_t chunk_version,
                const std::function<Status(Entry& entry, ChunkFile& file)>& change);
  // Passes `status` of an operation on the entry (its lock held) through. A checksum
  // failure lists the replica as lost; a disk failure lists it, drops it from the index
  // and counts against its directory.
  Status NoteFailure(uint64_t chunk_id, Entry& entry, Status status);
  // The same for a failure to open the chunk's file: EBADMSG (a file that is not this
  // chunk's) also marks the entry corrupt.
  Status NoteOpenFailure(uint64_t chunk_id, Entry& entry, Status status);
  void ReportLost(uint64_t chunk_id, uint64_t chunk_version);
  // OK unless creating the chunk would bring back a replica reported lost other than as a
  // copy (which writes version 0 first, chunk_copier.h).
  Status CheckRecreation(uint64_t chunk_id, uint64_t chunk_version);
  // Counts a disk failure of the directory; takes it out of service at the threshold.
  void NoteDiskError(size_t dir_index, const Status& status);
  // Lists and drops the chunks of directories taken out of service since the last call.
  void RetireFailedDirs();

  const ChunkStoreOptions options_;
  std::deque<DataDir> dirs_;  // one per options_.data_dirs; a deque holds atomics in place
  std::mutex health_mutex_;
  std::atomic<bool> retire_pending_{false};  // a directory went out of service since RetireFailedDirs
  std::string uuid_;
  OpenChunkCache open_files_;
  std::mutex index_mutex_;
  std::unordered_map<uint64_t, std::shared_ptr<Entry>> index_;
  std::mutex lost_mutex_;
  std::vector<wire::ChunkReport> lost_;
  std::unordered_set<uint64_t> reported_lost_;  // since the start; a copy made here takes one out
};

}  // namespace hafs
