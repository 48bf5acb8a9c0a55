// What this mount knows about one file while it is open for writing here: the write
// leases it holds, the small writes it holds back (write_buffer.h), which chunks were written
// since the last fsync, and how far the file grew by writes not yet reported to the master
// (WriteDone). Shared by every
// handle of the inode in this mount (InodeTable hands it out), so two descriptors of
// one file reuse one lease per chunk and one size.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>

#include "common/proto/hafs.pb.h"
#include "common/status.h"
#include "mount/write_buffer.h"

namespace hafs::mount {

struct WriteLease {
  // Replicas in pipeline order, at chain.chunk_version, and the chunk access token for them.
  wire::ChunkLocation chain;
  uint32_t replication_goal = 0;
  uint32_t min_write_replicas = 1;
  // Monotonic ms after which the lease is asked for again: the master's lease, counted
  // from before the request, less the longest write call and a margin, so that no write
  // at this version is still under way when the master's lease ends; sooner if the chunk
  // access token is due for renewal (TokenRefreshAtMs).
  int64_t renew_at_ms = 0;
  uint64_t token = 0;  // the master's name for this grant, to release it at close
  int64_t asked_ms = 0;  // monotonic, when it was asked for
};

struct OpenFile {
  explicit OpenFile(uint64_t inode_number) : inode(inode_number) {}

  const uint64_t inode;
  // Held while writes go out to the replicas (ChunkWriter::WriteOut and writes that do not
  // wait in `held`), so that bytes written later never reach a replica before earlier ones.
  // Taken before `mutex`.
  std::mutex writing_out;
  std::mutex mutex;  // guards everything below
  // Who the master checks this file's write leases and WriteDone against: the latest
  // process that opened it for writing or truncated it here (the kernel checked each).
  wire::Credentials writer;
  std::map<uint64_t, WriteLease> leases;  // by chunk index
  WriteBuffer held;                       // small writes not on the replicas yet
  Status held_error;  // the first held write that failed to go out, until a close or fsync reports it
  std::set<uint64_t> unsynced_chunks;     // written since the last fsync
  uint64_t end_offset = 0;                // highest byte written + 1
  bool unreported = false;                // writes the master has not heard of (WriteDone)
  int64_t mtime_ns = 0;                   // time of the last write
  // Chained operations (writes, truncations) under way: the leases are released at close
  // only when none is, since a copy started after the release would miss its bytes.
  int chain_operations = 0;
};

}  // namespace hafs::mount
