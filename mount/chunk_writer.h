// The write path: file bytes to every replica of a chunk, through the replication chain.
//
// A write to a chunk needs a write lease from the master (cached in the OpenFile while
// it works). The data goes to chain[0] with the rest of the chain in the request;
// each replica forwards downstream, stores, and answers with every replica's result.
// If any replica failed, the client asks for a new lease without the failed ones and
// writes the same bytes again on the new chain (writes are idempotent), so the
// application sees a stall, not an error, as long as min_write_replicas remain. ESTALE
// from a replica means the lease is old: a new lease is fetched and the write redone; so
// does EACCES from chain[0] (its chunk access token refused), once. The lease carries the
// token, and is renewed before the token is 3/4 through its lifetime.
// A write returns only when every replica in the chain holds the data.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "mount/chunk_location_cache.h"
#include "mount/master_client.h"
#include "mount/mount_options.h"
#include "mount/open_file.h"
#include "mount/replica_picker.h"

namespace hafs::mount {

class ChunkWriter {
 public:
  ChunkWriter(MasterClient& master, ChunkLocationCache& locations, ReplicaPicker& picker, const MountOptions& options)
      : master_(master), locations_(locations), picker_(picker), options_(options) {}

  // Writes `data` at `offset` of the file; on success every replica holds it.
  Status Write(OpenFile& file, uint64_t offset, std::string_view data);
  // fsync: makes every chunk written since the last sync durable on every replica.
  Status Sync(OpenFile& file);
  // Sets the length of chunk `chunk_index` on every replica (truncate to mid-chunk).
  Status TruncateChunk(OpenFile& file, uint64_t chunk_index, uint64_t new_length);
  // fallocate on [offset, offset + length) of chunk `chunk_index` on every replica: with
  // `punch` the range is zeroed, without it reserved (a hole gets its chunk, as a write's).
  Status FallocateChunk(OpenFile& file, uint64_t chunk_index, uint64_t offset, uint64_t length, bool punch);
  // Tells the master the file's new size and mtime (WriteDone) if anything was written;
  // the file's new attributes then, nothing when there was nothing to report. At a close
  // (`closing`) it also hands back the file's write leases, so self-healing need not wait
  // for them to run out before it copies the file's chunks.
  Result<std::optional<wire::Attr>> ReportWrites(OpenFile& file, bool closing);

 private:
  // Builds the request for one chunk operation given the lease's chain.
  using RequestBuilder = std::function<wire::Envelope(const WriteLease& lease)>;

  // Runs one chained operation on chunk `chunk_index` with failover (see the top);
  // `data` is the bulk frame (writes only).
  Status RunOnChain(OpenFile& file, uint64_t chunk_index, const RequestBuilder& build,
                    std::optional<std::string_view> data);
  Status RunOnChainCounted(OpenFile& file, uint64_t chunk_index, const RequestBuilder& build,
                           std::optional<std::string_view> data);
  // Moves the file's cached leases into `released` if no chained operation is under way
  // (the caller holds file.mutex); the next write asks the master again.
  static void TakeLeases(OpenFile& file, google::protobuf::RepeatedPtrField<wire::LeaseToRelease>* released);
  // The cached lease, or a new one; `failed` are chunkserver ids to leave out.
  Result<WriteLease> Lease(OpenFile& file, uint64_t chunk_index, const std::vector<uint32_t>& failed,
                           bool renew);
  Result<WriteLease> AskForLease(uint64_t inode, uint64_t chunk_index, const std::vector<uint32_t>& failed,
                                 const wire::Credentials& writer);

  MasterClient& master_;
  ChunkLocationCache& locations_;
  ReplicaPicker& picker_;
  const MountOptions& options_;
};

}  // namespace hafs::mount
