#include "chunkserver/replica_verifier.h"

#include <vector>

#include "common/log.h"

namespace hafs {
namespace {

constexpr uint64_t kPieceBytes = 1ull << 20;  // read under the chunk's lock at once

}  // namespace

void ReplicaVerifier::Start() { thread_ = std::thread(&ReplicaVerifier::Run, this); }

void ReplicaVerifier::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReplicaVerifier::Request(uint64_t chunk_id) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued || !queued_.insert(chunk_id).second) return;
    queue_.push_back(chunk_id);
  }
  wake_.notify_one();
}

Status ReplicaVerifier::Verify(uint64_t chunk_id) {
  std::vector<std::byte> buffer(kPieceBytes);
  uint64_t version = 0;
  for (uint64_t block = 0;;) {
    auto piece = store_.ScrubBlocks(chunk_id, block, buffer);
    if (!piece) {
      // EBADMSG or a disk error: the store has logged it and listed the replica as lost.
      if (piece.error().error() == ENOENT) {
        LOG(WARNING) << "chunk " << chunk_id << " was reported bad here and is not here: reporting it lost";
        store_.ReportMissing(chunk_id);
      }
      return piece.error();
    }
    version = piece->chunk_version;
    block += piece->blocks_read;
    if (piece->blocks_read == 0 || block >= piece->block_count) break;
    std::lock_guard lock(mutex_);
    if (stopping_) return Status::Error(ECANCELED, "stopping");
  }
  LOG(INFO) << "chunk " << chunk_id << " version " << version
            << " was reported bad by a client; checked here, every block is good";
  return Status::Ok();
}

void ReplicaVerifier::Run() {
  while (true) {
    uint64_t chunk_id = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      chunk_id = queue_.front();
      queue_.pop_front();
      queued_.erase(chunk_id);
    }
    (void)Verify(chunk_id);  // its outcome is reported through the store
  }
}

}  // namespace hafs
