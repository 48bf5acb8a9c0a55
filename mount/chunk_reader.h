// The read path: file bytes from chunkservers, with failover between replicas.
//
// Each chunk piece of a read goes to one replica (ReplicaPicker's order). On a
// timeout, ENOENT, EIO or EBADMSG the same piece is read from the next replica, so
// the application sees the right bytes and only a stall; ENOENT and EBADMSG are also
// reported to the master (ReportBadReplica), a timeout is not (the server may only be
// slow). EACCES (the chunk access token refused) moves on to the next replica without
// suspecting it. On ESTALE, or when every replica failed, the locations (and tokens) are
// fetched again from the master and the piece retried, a bounded number of times, before EIO.
// Holes (chunk_id 0) read as zeros.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "mount/chunk_location_cache.h"
#include "mount/master_client.h"
#include "mount/replica_picker.h"

namespace hafs::mount {

class ChunkReader {
 public:
  ChunkReader(MasterClient& master, ChunkLocationCache& locations, ReplicaPicker& picker, int read_timeout_ms)
      : master_(master), locations_(locations), picker_(picker), read_timeout_ms_(read_timeout_ms) {}

  // Reads exactly `length` bytes at `offset` of `inode` (the caller clips at EOF).
  // `opener`: who opened the file, for the master's check of the locations it hands out.
  Result<std::string> Read(uint64_t inode, uint64_t offset, uint64_t length, const wire::Credentials& opener);

 private:
  // Reads one piece within chunk `chunk_index` into `out` (length bytes).
  Status ReadPiece(uint64_t inode, uint64_t chunk_index, uint64_t offset_in_chunk, uint64_t length, char* out,
                   const wire::Credentials& opener);
  // One attempt at one replica.
  Status ReadFromReplica(const wire::ChunkLocation& location, const wire::ChunkserverAddress& replica,
                         uint64_t offset_in_chunk, uint64_t length, char* out);
  void ReportBadReplica(const wire::ChunkLocation& location, const wire::ChunkserverAddress& replica,
                        const Status& status);

  MasterClient& master_;
  ChunkLocationCache& locations_;
  ReplicaPicker& picker_;
  int read_timeout_ms_;
};

}  // namespace hafs::mount
