// Chooses the order in which to try the replicas of a chunk for a read.
//
// Reads go first to the replica with the fewest reads this mount has outstanding at
// its chunkserver. Ties go to the chunk's preferred replica, a hash of the chunk id and of
// a salt drawn per mount: this mount reads a chunk from one replica, whose page cache then
// serves it again, while chunks (and mounts) spread over all replicas. Round robin sent
// each read to the next replica, and a cold random reader paid a disk read of a block at
// each of them in turn (docs/performance.md). A chunkserver that just failed or timed out is "suspect" for a
// while and tried last, so a hung server costs one timeout, not one per read. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace hafs::mount {

class ReplicaPicker {
 public:
  explicit ReplicaPicker(int64_t suspect_ms = 5000, uint64_t salt = std::random_device{}())
      : suspect_ms_(suspect_ms), salt_(salt) {}

  // Indexes into `addresses` (the replicas of chunk `chunk_id`), in the order to try them,
  // as of `now_ms`; among equals the chunk's preferred replica first, the others after it
  // in turn.
  std::vector<size_t> Order(const std::vector<std::string>& addresses, uint64_t chunk_id, int64_t now_ms);

  void Started(const std::string& address);
  void Finished(const std::string& address);
  void Failed(const std::string& address, int64_t now_ms);

 private:
  struct ServerState {
    int outstanding = 0;
    int64_t suspect_until_ms = 0;
  };
  std::mutex mutex_;
  int64_t suspect_ms_;
  uint64_t salt_;
  std::unordered_map<std::string, ServerState> servers_;
};

// Counts one read as outstanding at `address` for its lifetime.
class OutstandingRead {
 public:
  OutstandingRead(ReplicaPicker& picker, const std::string& address) : picker_(picker), address_(address) {
    picker_.Started(address_);
  }
  ~OutstandingRead() { picker_.Finished(address_); }
  OutstandingRead(const OutstandingRead&) = delete;
  OutstandingRead& operator=(const OutstandingRead&) = delete;

 private:
  ReplicaPicker& picker_;
  std::string address_;
};

}  // namespace hafs::mount
