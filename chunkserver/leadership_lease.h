// The leadership lease this chunkserver grants to at most one master at a time, the
// highest master epoch it has seen, and the "out of sync" mark a lease holder may leave
// here (docs/design.md, "Master failover" and the chunkserver's "Leadership lease").
//
// Rules (LeadershipLeaseRequest):
// - epoch below the highest seen here (this object's persisted one or the fence in
//   ChunkserverState, whichever is higher) -> not granted, ESTALE;
// - held by another master and not expired on our monotonic clock -> not granted, EBUSY;
// - within `grace_ms` of a start that found persisted state -> not granted, EBUSY (we may
//   have granted a lease before the restart and forgotten it);
// - otherwise granted: holder = requester, expiry = now + min(duration_ms, cap), highest
//   epoch raised (persisted first, and on the very first grant ever).
// Only the granted holder may set or clear the out-of-sync mark (persisted before the
// answer) and `release` the lease. Epochs are fenced on the request's body epoch only;
// the envelope epoch of a lease request does not raise the fence (a refused candidate
// must not fence out the holder).
//
// Persisted state: `<first data dir>/leadership`, a small text file (format in
// docs/design.md), written to `leadership.tmp`, fsynced, renamed, directory fsynced.
//
// Thread-safe: the data service's workers call Handle at once; one mutex guards it all
// (the only slow part, the fsync, happens when the epoch or the mark changes).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "chunkserver/chunkserver_state.h"
#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs {

struct LeadershipLeaseOptions {
  std::string dir;                   // where `leadership` lives (the first data directory)
  int grace_ms = 10000;              // no grant for this long after a start with persisted state
  int max_duration_ms = 10000;       // a longer duration_ms is cut to this
  std::function<int64_t()> now_ms;   // monotonic clock; MonotonicMs when empty (tests inject one)
};

class LeadershipLease {
 public:
  // Loads `leadership` (a missing file is a chunkserver that never granted a lease); a
  // file that does not parse is EBADMSG naming it. Raises the fence in `state` to the
  // persisted epoch.
  static Result<std::unique_ptr<LeadershipLease>> Open(LeadershipLeaseOptions options, ChunkserverState& state);

  // Applies the request and fills the lease fields of `reply` (error, lease_granted,
  // lease_holder, highest_epoch, out_of_sync_master, out_of_sync_epoch).
  void Handle(const wire::LeadershipLeaseRequest& request, wire::Reply* reply);

  // Who holds the lease now ("" when nobody does or it expired).
  std::string Holder() const;
  // A lease was ever granted here (persisted): from then on only the holder's
  // delete_chunks are obeyed.
  bool EverGranted() const;
  uint64_t HighestEpoch() const;
  // The persisted out-of-sync mark ("" when none).
  std::string OutOfSyncMaster() const;
  uint64_t OutOfSyncEpoch() const;

  static constexpr const char* kFileName = "leadership";

 private:
  struct Persisted {
    uint64_t highest_epoch = 0;
    std::string out_of_sync_master;
    uint64_t out_of_sync_epoch = 0;
  };

  LeadershipLease(LeadershipLeaseOptions options, ChunkserverState& state)
      : options_(std::move(options)), state_(state) {}
  int64_t Now() const;
  Status Load();
  Status Save(const Persisted& persisted);
  // Everything below expects mutex_ held.
  uint64_t HighestLocked() const;
  std::string HolderLocked(int64_t now) const;
  void FillReply(int64_t now, wire::Reply* reply) const;

  const LeadershipLeaseOptions options_;
  ChunkserverState& state_;
  mutable std::mutex mutex_;
  Persisted persisted_;
  bool ever_granted_ = false;    // the file exists
  int64_t grace_until_ms_ = 0;   // no grant before this
  std::string holder_;
  uint64_t holder_epoch_ = 0;
  int64_t expiry_ms_ = 0;
};

}  // namespace hafs
