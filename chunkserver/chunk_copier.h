// Self-healing copies into this chunkserver (docs/design.md, "Self-healing"): on the
// master's ReplicateChunk, reads the chunk from another chunkserver piece by piece (the
// source verifies every block it sends) and stores it here. The copy is written at
// version 0, fdatasynced, and only then given its real version (and synced again): a copy
// cut short by a crash is reported at version 0, which the master never counts or recovers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "chunkserver/chunk_store.h"
#include "chunkserver/token_check.h"
#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs {

struct CopyOptions {
  int max_copies = 2;          // copies into this chunkserver at once; more are refused (EAGAIN)
  uint32_t mib_per_s = 200;    // bandwidth of all copies into this chunkserver together
  int read_timeout_ms = 10000; // one piece from the source
};

class ChunkCopier {
 public:
  ChunkCopier(ChunkStore& store, CopyOptions options, const TokenCheck& tokens)
      : store_(store), options_(options), tokens_(tokens) {}

  // Copies request.chunk_id at request.chunk_version from request.source, replacing any
  // local copy; on failure nothing of the copy is left. `epoch` and the request's source
  // token go with the reads; a token that does not name that source refuses the copy.
  Status Copy(const wire::ReplicateChunkRequest& request, uint64_t epoch);

 private:
  Status CopyData(const wire::ReplicateChunkRequest& request, uint64_t epoch);
  // Waits until `bytes` more fit in the bandwidth shared by all copies.
  void Pace(uint64_t bytes);

  ChunkStore& store_;
  const CopyOptions options_;
  const TokenCheck& tokens_;
  std::atomic<int> running_{0};
  std::mutex pace_mutex_;
  std::chrono::steady_clock::time_point next_free_{};
};

}  // namespace hafs
