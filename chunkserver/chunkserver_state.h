// What the data service and the master link share: who this chunkserver is (its id as
// the master assigned it, its address), the highest master epoch seen (fencing), and
// the number of requests being served (for heartbeats). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/protocol_limits.h"

namespace hafs {

class ChunkserverState {
 public:
  uint32_t chunkserver_id() const { return chunkserver_id_.load(); }
  void set_chunkserver_id(uint32_t id) { chunkserver_id_.store(id); }

  std::string address() const {
    std::lock_guard lock(mutex_);
    return address_;
  }
  void set_address(std::string address) {
    std::lock_guard lock(mutex_);
    address_ = std::move(address);
  }

  // The plain data port's "host:port" as registered with the masters; "" when none.
  std::string plain_data_address() const {
    std::lock_guard lock(mutex_);
    return plain_data_address_;
  }
  void set_plain_data_address(std::string address) {
    std::lock_guard lock(mutex_);
    plain_data_address_ = std::move(address);
  }

  // The highest master epoch seen here: from requests, downstream replies, master replies
  // and granted leadership leases. LeadershipLease persists the epochs it grants at and
  // raises this to the persisted one at start, so there is one fence for everything.
  uint64_t epoch() const { return epoch_.load(); }
  // The highest epoch learned from a master itself: its answers to registration and
  // heartbeats, and the leases granted here (persisted). A peer's epoch is believed up to
  // kEpochWindow above it (EpochBelievable), so no lie can raise the fence out of reach.
  uint64_t learned_epoch() const { return learned_epoch_.load(); }
  bool Believable(uint64_t epoch) const { return EpochBelievable(epoch, learned_epoch()); }
  void LearnEpoch(uint64_t epoch) {
    if (epoch > kMaxEpoch) return;
    uint64_t learned = learned_epoch_.load();
    while (epoch > learned && !learned_epoch_.compare_exchange_weak(learned, epoch)) {
    }
    AdmitEpoch(epoch);
  }
  // Fencing: false for a non-zero epoch below the highest seen; otherwise remembers it.
  bool AdmitEpoch(uint64_t epoch) {
    uint64_t highest = epoch_.load();
    while (epoch > highest) {
      if (epoch_.compare_exchange_weak(highest, epoch)) return true;
    }
    return epoch == 0 || epoch >= highest;
  }

  uint32_t requests_in_flight() const { return requests_in_flight_.load(); }
  // When a client last asked to read or write chunk data (MonotonicMs; 0: never): the
  // scrubber slows down while clients use the disk.
  int64_t last_client_data_ms() const { return last_client_data_ms_.load(); }
  void NoteClientData(int64_t now_ms) { last_client_data_ms_.store(now_ms); }
  // Counts one request while alive.
  class InFlight {
   public:
    explicit InFlight(ChunkserverState& state) : state_(state) { ++state_.requests_in_flight_; }
    ~InFlight() { --state_.requests_in_flight_; }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    ChunkserverState& state_;
  };

 private:
  std::atomic<uint32_t> chunkserver_id_{0};
  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint64_t> learned_epoch_{0};
  std::atomic<uint32_t> requests_in_flight_{0};
  std::atomic<int64_t> last_client_data_ms_{0};
  mutable std::mutex mutex_;
  std::string address_;
  std::string plain_data_address_;
};

}  // namespace hafs
