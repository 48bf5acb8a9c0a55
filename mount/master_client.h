// Calls from hafs-mount to the active master, with failover between masters.
//
// Every request carries the highest master epoch this mount has seen, the mount's
// client_id (random per mount) and a sequence number that stays the same across the
// retries of one call, so the master can apply a retried mutation once. A call that
// times out, or that a master answers as "not me" (a standby, or a fenced old
// active), is retried on the next master in the list until `retry_s` passes; then
// it fails with EIO. Thread-safe: each thread has its own connections.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs::mount {

class MasterClient {
 public:
  MasterClient(std::vector<std::string> masters, int timeout_ms, int retry_s);

  // Sends `request` (its body set, envelope fields filled in here) and returns the
  // reply body; a reply with a non-zero error comes back as that error.
  Result<wire::Reply> Call(wire::Envelope request) { return CallFor(std::move(request), retry_s_ * 1000LL); }
  // Like Call, but gives up after one pass over the masters (for best-effort reports).
  Result<wire::Reply> CallOnce(wire::Envelope request) { return CallFor(std::move(request), 0); }
  // Like Call, but retries for `retry_ms` (mount time: --mount-retry-s).
  Result<wire::Reply> CallFor(wire::Envelope request, int64_t retry_ms);

  // Fencing: remembers the highest epoch seen; false when `epoch` is older (stale).
  bool ObserveEpoch(uint64_t epoch);
  uint64_t epoch() const { return epoch_.load(); }
  uint64_t client_id() const { return client_id_; }
  // "host:port,host:port" as given (for the fsname and messages).
  std::string MasterList() const;

 private:
  // True when the error means "ask another master", not "the answer is no".
  static bool IsRetryable(int error);

  std::vector<std::string> masters_;
  int timeout_ms_;
  int retry_s_;
  uint64_t client_id_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint64_t> next_sequence_{1};
  std::atomic<size_t> current_master_{0};  // the one that answered last
};

}  // namespace hafs::mount
