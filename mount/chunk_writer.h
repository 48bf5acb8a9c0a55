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
// A write returns only when every replica in the chain holds the data, unless it is small
// enough to be held back (write_buffer.h): then it goes out at the file's next close, fsync,
// lock change, truncate, append or read of those bytes, before that call returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/rpc.h"
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

  static constexpr uint64_t kMaxHeldWrite = 128 * 1024;       // larger writes go out at once
  static constexpr uint64_t kMaxHeldBytes = 256ULL << 20;     // held by all files together
  // A write up to this size goes to every replica at once rather than down the chain: one
  // hop's time instead of three, for three times the mount's upload.
  static constexpr uint64_t kMaxFanOutBytes = 256 * 1024;

  // Writes `data` at `offset` of the file. With `may_hold` a small write may be held in the
  // file's buffer (see the top); otherwise, on success every replica holds it.
  Status Write(OpenFile& file, uint64_t offset, std::string_view data, bool may_hold);
  // Sends every write the file holds to its replicas; the failure, if one did not make it
  // (it stays in file.held_error for the next close or fsync to report too).
  Status WriteOut(OpenFile& file);
  // WriteOut, if a byte of [offset, offset + length) is held: a read must find it on the replicas.
  Status WriteOutBeforeRead(OpenFile& file, uint64_t offset, uint64_t length);
  // fsync: makes every chunk written since the last sync durable on every replica.
  Status Sync(OpenFile& file);
  // Sets the length of chunk `chunk_index` on every replica (truncate to mid-chunk).
  Status TruncateChunk(OpenFile& file, uint64_t chunk_index, uint64_t new_length);
  // fallocate on [offset, offset + length) of chunk `chunk_index` on every replica: with
  // `punch` the range is zeroed, without it reserved (a hole gets its chunk, as a write's).
  Status FallocateChunk(OpenFile& file, uint64_t chunk_index, uint64_t offset, uint64_t length, bool punch);
  // Sends the held writes out (reporting a failure of any since the last report), then tells
  // the master the file's new size and mtime (WriteDone) if anything was written;
  // the file's new attributes then, nothing when there was nothing to report. At a close
  // (`closing`) it also hands back the file's write leases, so self-healing need not wait
  // for them to run out before it copies the file's chunks.
  Result<std::optional<wire::Attr>> ReportWrites(OpenFile& file, bool closing);

 private:
  // Writes `data` to every replica at once; its piece in a chunk of `syncing` is made durable
  // there too (fdatasync), and that chunk needs no sync of its own. The caller holds
  // file.writing_out.
  Status WriteThrough(OpenFile& file, uint64_t offset, std::string_view data, const std::set<uint64_t>& syncing = {});
  // Holds the write in the file's buffer if it and the buffers' totals fit; false: it must go out.
  bool Hold(OpenFile& file, uint64_t offset, std::string_view data);
  // WriteOut with file.writing_out held; with `sync`, the last write to each chunk carries
  // fsync's sync (one trip down the chain, not two).
  Status WriteOutLocked(OpenFile& file, bool sync = false);
  // The held write failure not yet reported, cleared (a close or fsync reports it).
  static Status TakeHeldError(OpenFile& file);

  // What one try of a chained operation learnt: the replicas that failed (to leave out of the
  // next lease), whether the lease was stale, the last error a replica gave, and what to log.
  struct Attempt {
    std::vector<uint32_t> failed;
    bool stale = false;
    int last_replica_error = 0;
    std::string why;
  };
  // Sends `request` once: down the chain from its head, or, when it is a small write, to
  // every replica at once with no downstream (fan-out).
  Attempt SendOnce(const WriteLease& lease, wire::Envelope request, std::optional<std::string_view> data,
                   bool renewed);
  // Takes in `target`'s answer (`renewed`: the lease was asked for again in this operation).
  void Absorb(const wire::ChunkserverAddress& target, const Result<rpc::Message>& answer, bool renewed,
              Attempt* attempt);

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
  std::atomic<uint64_t> held_bytes_{0};  // in every file's buffer
};

}  // namespace hafs::mount
