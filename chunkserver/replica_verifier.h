// Checks replicas that a client reported bad, when the master asks (Reply.verify_chunks in
// its answers to heartbeats). The master never drops a replica on a client's word: a forged
// ReportBadReplica would otherwise delete every copy of a file. It asks the chunkserver,
// which reads and verifies every stored block of its replica here; a replica that fails is
// reported exactly as a failed client read is (ChunkStore lists it in the next heartbeat's
// lost_chunks), one that is not here at all is listed lost too (ChunkStore::ReportMissing),
// and a good one is only logged. docs/design.md, "Self-healing", has the whole path.
//
// One thread, unpaced (one chunk at most 64 MiB, and only on request), separate from the
// scrubber so that a check does not wait for a paced pass, nor need scrubbing enabled. The
// queue holds each chunk once and at most kMaxQueued: a client can report at will, and a
// report dropped here is made again by the client's next failed read.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "chunkserver/chunk_store.h"
#include "common/status.h"

namespace hafs {

class ReplicaVerifier {
 public:
  static constexpr size_t kMaxQueued = 1024;

  explicit ReplicaVerifier(ChunkStore& store) : store_(store) {}
  ~ReplicaVerifier() { Stop(); }
  ReplicaVerifier(const ReplicaVerifier&) = delete;
  ReplicaVerifier& operator=(const ReplicaVerifier&) = delete;

  void Start();
  // Returns once the thread has ended; a check under way stops after its current piece.
  void Stop();
  // Queues a check of this chunkserver's replica of `chunk_id`.
  void Request(uint64_t chunk_id);
  // Checks the replica now, in the calling thread: OK when every stored block matches its
  // checksum; otherwise the error (EBADMSG, a disk error, ENOENT), already reported lost.
  Status Verify(uint64_t chunk_id);

 private:
  void Run();

  ChunkStore& store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;         // guarded by mutex_
  std::deque<uint64_t> queue_;    // guarded by mutex_
  std::set<uint64_t> queued_;     // guarded by mutex_: the ids in queue_
  std::thread thread_;
};

}  // namespace hafs
