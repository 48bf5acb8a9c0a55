// Log shipping, active side (docs/design.md, "Master failover"): the records the standby
// may still need (RecordRing), a non-blocking request channel to the peer (PeerChannel),
// and the standby's sync state as the active sees it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/proto/hafs.pb.h"
#include "common/rpc.h"

namespace hafs::master {

// RecordChecksum of a serialized record (the bytes shipped in AppendLog).
uint64_t SerializedChecksum(const std::string& bytes);

// The newest records, serialized, with their checksums: what a standby that fell a little
// behind is sent from. Bounded; older positions need a checkpoint. The bound is small on
// purpose: every record here is master memory that grows with the namespace's churn
// (8k creates are ~1 MiB), and a standby further behind than a few seconds of heavy
// traffic resyncs from a checkpoint instead, which is quick at any size this ring saves.
class RecordRing {
 public:
  static constexpr size_t kMaxRecords = 8192;
  static constexpr size_t kMaxBytes = 4 << 20;

  void Add(const wire::LogRecord& record);
  void Clear();
  uint64_t first_position() const { return records_.empty() ? 0 : records_.front().position; }
  uint64_t last_position() const { return records_.empty() ? 0 : records_.back().position; }
  // The checksum of record `position` (0 when unknown, or for position 0).
  uint64_t ChecksumOf(uint64_t position) const;
  bool Has(uint64_t position) const { return !records_.empty() && position >= first_position() && position <= last_position(); }
  // Fills `request` with records from `first` on, at most max_bytes.
  void Fill(uint64_t first, size_t max_bytes, wire::AppendLogRequest* request) const;

 private:
  struct Entry {
    uint64_t position;
    uint64_t checksum;
    std::string bytes;
  };
  std::deque<Entry> records_;
  size_t bytes_ = 0;
};

// Requests to the peer master over one DEALER socket, without blocking: Send, then
// Receive(id, wait_ms) as often as wanted; answers to other ids are dropped.
class PeerChannel {
 public:
  explicit PeerChannel(std::string address);
  uint64_t Send(wire::Envelope request);
  // The answer to `request_id`, waiting up to wait_ms (0: just look).
  std::optional<wire::Envelope> Receive(uint64_t request_id, int wait_ms);
  // New socket (after a timeout), so late answers are never mistaken for new ones.
  void Reset();
  const std::string& address() const { return address_; }

 private:
  std::string address_;
  zmq::socket_t socket_;
};

enum class StandbySync { kInSync, kCatchingUp, kOutOfSync };
const char* StandbySyncName(StandbySync sync);

}  // namespace hafs::master
