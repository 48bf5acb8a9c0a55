// Calls from hafs-mount to the active master, with failover between masters.
//
// Every request carries the highest master epoch this mount has seen, the mount's
// client_id (random per mount), a sequence number that stays the same across the
// retries of one call (on any master), so the master can apply a retried mutation once,
// and the mounted subtree's root once the master granted it (Envelope.mount_root).
// A call that times out, or that a master answers as "not me" (ENOTCONN from a standby,
// which names the active in Reply.active_address when it knows it; ESTALE from a fenced
// old active; an answer with an epoch older than one already seen), goes at once to the
// master named, else the next one in the list; only when every master of the list was
// tried does it pause (100 ms) before the next pass, until `retry_s` passes; then it
// fails with EIO. A master that timed out is skipped for 2 s while another one answers,
// so a dead active does not cost a --master-timeout-ms per pass during a takeover.
// Thread-safe: each thread has its own connections.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
  Result<wire::Reply> CallFor(wire::Envelope request, int64_t retry_ms) { return CallFor(std::move(request), retry_ms, 0); }
  // Like CallOnce, for a request the master holds up to `held_ms` before it answers (a name
  // watch): each master gets that much longer to answer.
  Result<wire::Reply> CallHeld(wire::Envelope request, int held_ms) { return CallFor(std::move(request), 0, held_ms); }

  // A sequence number of this mount's, for a request sent inside another (a write-back
  // change in a ChangeBatchRequest).
  uint64_t NextSequence() { return next_sequence_.fetch_add(1); }
  // `hook` sees every call before it is sent (write-back ordering: WriteBack::BeforeCall) and
  // may answer it instead (a change made locally, a request that rode on a batch). Set before
  // the first call.
  using CallHook = std::function<std::optional<Result<wire::Reply>>(const wire::Envelope&)>;
  void BeforeCalls(CallHook hook) { before_call_ = std::move(hook); }

  // The root inode MountRequest answered; every later request carries it.
  void SetMountRoot(uint64_t mount_root) { mount_root_.store(mount_root); }

  // Fencing: remembers the highest epoch seen; false when `epoch` is older (stale).
  bool ObserveEpoch(uint64_t epoch);
  uint64_t epoch() const { return epoch_.load(); }
  uint64_t client_id() const { return client_id_; }
  // "host:port,host:port" as given (for the fsname and messages).
  std::string MasterList() const;
  // How long calls have gone unanswered by every master (0 while the last pass over them
  // got an answer): what the mount's /health reports.
  int64_t UnansweredForMs(int64_t now_ms) const;

 private:
  Result<wire::Reply> CallFor(wire::Envelope request, int64_t retry_ms, int held_ms);
  // True when the error means "ask another master", not "the answer is no".
  static bool IsRetryable(int error);
  // masters_.size() when `address` is not on the list.
  size_t IndexOf(const std::string& address) const;
  // True when master `index` timed out recently and another master answers.
  bool SkipSuspect(size_t index, int64_t now_ms) const;

  CallHook before_call_;
  std::vector<std::string> masters_;
  int timeout_ms_;
  int retry_s_;
  uint64_t client_id_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint64_t> next_sequence_{1};
  std::atomic<uint64_t> mount_root_{0};  // 0 until mounted: the MountRequest itself
  std::atomic<size_t> current_master_{0};  // the one that answered last
  // Per master: when its calls started timing out (monotonic ms), 0 while it answers.
  std::unique_ptr<std::atomic<int64_t>[]> silent_since_ms_;
  // When a pass over every master first went unanswered (monotonic ms), 0 after an answer.
  std::atomic<int64_t> unanswered_since_ms_{0};
};

}  // namespace hafs::mount
