// This mount's side of cluster-wide file locks (docs/design.md, "Locks"): asks the active
// master for each lock change and remembers what every owner holds here, as the master
// answered it, so that a close can drop an owner's locks without asking the master when it
// holds none, and so that the locks can be re-asserted at a new active after a takeover.
//
// A blocking lock (F_SETLKW, flock without LOCK_NB) is a non-blocking try repeated every
// 5 ms doubling to 100 ms until the master grants it, answers EDEADLK, or the waiting
// process is interrupted (EINTR; the master then forgets the waiter). Each try is an
// ordinary master call, so no call waits longer than --master-timeout-ms. Blocking waits
// occupy FUSE worker threads: at most half of --threads may wait at once (ENOLCK past it).
//
// Calls for one (inode, owner) are serialised, so that the master's answers are recorded
// in the order it gave them.
#pragma once

#include <array>
#include <atomic>
#include <compare>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "common/status.h"
#include "mount/master_client.h"

namespace hafs::mount {

// What a lock request is about: the file, which of its two lock spaces (flock or POSIX),
// who locks (FUSE's lock_owner), through which open (FUSE's fh) and with the credentials
// and access mode of that open.
struct LockTarget {
  uint64_t inode = 0;
  wire::LockKind kind = wire::LOCK_KIND_POSIX;
  uint64_t owner = 0;
  uint64_t handle = 0;
  wire::Credentials credentials;
  bool write_only = false;
};

// Ends a blocking wait early: FUSE's interrupt callback calls Interrupt from another thread.
class WaitInterrupt {
 public:
  void Interrupt();
  // Sleeps up to `ms`; true when interrupted (before or during the sleep).
  bool SleepFor(int64_t ms);

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool interrupted_ = false;
};

class LockClient {
 public:
  static constexpr int64_t kFirstRetryMs = 5;
  static constexpr int64_t kMaxRetryMs = 100;

  LockClient(MasterClient& master, size_t max_waiters) : master_(master), max_waiters_(max_waiters) {}

  // F_SETLK, flock with LOCK_NB, and unlocks: EAGAIN when another owner's lock conflicts.
  Status Set(const LockTarget& target, const wire::LockRange& range);
  // F_SETLKW, flock without LOCK_NB: waits until granted; EINTR when interrupted, EDEADLK,
  // ENOLCK past the waiters this mount allows.
  Status SetAndWait(const LockTarget& target, const wire::LockRange& range, WaitInterrupt& interrupt);
  // F_GETLK: the first lock of another owner in the way, if any.
  Result<std::optional<wire::LockRange>> Test(const LockTarget& target, const wire::LockRange& range);
  // Any close of the file by a process (FUSE's flush): its POSIX locks on `inode` end.
  void ReleaseOwner(uint64_t inode, uint64_t owner);
  // The last close of an open file description (FUSE's release): its flock and OFD locks,
  // every lock set through `handle` that is still held, end.
  void ReleaseHandle(uint64_t inode, uint64_t handle);
  // The session was re-opened at a master (a new active): every lock held here is asserted
  // again; those the master refuses are lost (logged).
  void Reassert();

 private:
  struct Key {
    uint64_t inode = 0;
    wire::LockKind kind = wire::LOCK_KIND_POSIX;
    uint64_t owner = 0;
    auto operator<=>(const Key&) const = default;
  };
  struct Held {
    uint64_t handle = 0;
    wire::Credentials credentials;
    bool write_only = false;
    std::vector<wire::LockRange> ranges;
  };

  static wire::Envelope Request(const LockTarget& target, wire::LockOp op);
  // One try; true when granted (and recorded), false when another owner's lock is in the way.
  Result<bool> TrySet(const LockTarget& target, const wire::LockRange& range, uint64_t wait_id);
  // Drops every lock of `key` at the master and here.
  void Release(const Key& key);
  std::mutex& StripeOf(uint64_t inode, uint64_t owner);

  MasterClient& master_;
  const size_t max_waiters_;
  std::atomic<size_t> waiting_{0};
  std::atomic<uint64_t> next_wait_id_{1};
  std::array<std::mutex, 64> stripes_;  // serialise the calls of one (inode, owner)
  std::mutex mutex_;                    // guards held_
  std::map<Key, Held> held_;
};

}  // namespace hafs::mount
