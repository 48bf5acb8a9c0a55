// Chooses the order in which to try the replicas of a chunk for a read.
//
// Reads go first to the replica with the fewest reads this mount has outstanding at
// its chunkserver (ties broken round robin, so sequential reads spread over all
// replicas). A chunkserver that just failed or timed out is "suspect" for a while and
// tried last, so a hung server costs one timeout, not one per read. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace hafs::mount {

class ReplicaPicker {
 public:
  explicit ReplicaPicker(int64_t suspect_ms = 5000) : suspect_ms_(suspect_ms) {}

  // Indexes into `addresses`, in the order to try them, as of `now_ms`.
  std::vector<size_t> Order(const std::vector<std::string>& addresses, int64_t now_ms);

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
  uint64_t rotation_ = 0;
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
