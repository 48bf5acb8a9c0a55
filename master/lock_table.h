// Cluster-wide file locks at the active master (docs/design.md, "Locks"): flock locks and
// POSIX byte-range locks (OFD locks among them) of every mount session, kept in memory and
// never logged. A blocking lock is a request the mount repeats until it is granted (5 ms
// doubling to 100 ms); the table remembers such a waiter for kWaiterLifetimeMs after each
// try, so that it can answer EDEADLK to the owner that would close a cycle of POSIX owners
// waiting for each other. Locks and waiters end with their session (ReleaseSession).
//
// A new active knows no locks: the mounts re-assert theirs once their session renewal tells
// them the session was re-opened (Reply.session_reopened). Until every mount renewed, within
// a third of the session timeout, the table is in its grace period: it takes re-assertions
// and answers every other request EAGAIN (the mount retries), so that nobody is granted a
// lock a mount still holds from the old active. A re-assertion outside the grace period,
// or one that conflicts, is refused (ENOLCK): that lock is lost.
//
// Every field of a request is a peer's: ranges past kLockEnd, unknown kinds and types are
// EINVAL; locks and waiters per session, and locks in all, are bounded (ENOLCK past them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "master/lock_ranges.h"
#include "master/namespace.h"

namespace hafs::master {

struct LockLimits {
  size_t locks_per_session = 16384;
  size_t waiters_per_session = 64;
  size_t locks = size_t{1} << 20;  // ~100 MB at most, all sessions together
};

class LockTable {
 public:
  // A waiter that has not tried again for this long is forgotten (a mount tries every 100 ms).
  static constexpr int64_t kWaiterLifetimeMs = 2000;
  // The grace period after a takeover: a renewal period (a third of the session timeout)
  // and this margin, for a renewal that first tried the dead master and the re-assertions.
  static constexpr int64_t kGraceMarginMs = 2000;
  // How many owners a deadlock search visits at most (Linux follows 10 waiters).
  static constexpr size_t kMaxDeadlockSearch = 1024;

  explicit LockTable(int64_t session_timeout_ms, LockLimits limits = {})
      : session_timeout_ms_(session_timeout_ms), limits_(limits) {}

  // A LockRequest of the mount whose session is `session`; `session_known`: the session is
  // open at this master and the request comes from the key that owns it (else EAGAIN: a
  // mount's renewal re-opens its session soon). `tree` says whether the inode exists and
  // whether the request's credentials may lock it (EACCES).
  wire::Reply Handle(uint64_t session, bool session_known, const wire::LockRequest& request, const Namespace& tree,
                     int64_t now_ms);
  // Every lock and waiter of a session that ended; their waiters' next try may be granted.
  void ReleaseSession(uint64_t session);
  // This master starts serving as active at `epoch`. Past the first epoch, mounts may hold
  // locks of an earlier active: the grace period starts.
  void StartServing(uint64_t epoch, int64_t now_ms);
  // A master that steps down holds none.
  void Clear();

  size_t size() const { return lock_count_; }
  size_t waiters() const { return waiter_count_; }

 private:
  struct Key {
    uint64_t inode = 0;
    wire::LockKind kind = wire::LOCK_KIND_POSIX;
    auto operator<=>(const Key&) const = default;
  };
  struct Waiter {
    uint64_t wait_id = 0;
    Key key;
    wire::LockRange wanted;
    int64_t expires_ms = 0;
  };
  struct SessionCounts {
    size_t locks = 0;
    size_t waiters = 0;
  };

  wire::Reply Set(const LockOwner& owner, const Key& key, const wire::LockRange& wanted, uint64_t wait_id,
                  int64_t now_ms);
  wire::Reply Test(const LockOwner& owner, const Key& key, const wire::LockRange& wanted) const;
  wire::Reply Reassert(const LockOwner& owner, const Key& key, const wire::LockRequest& request);
  // The first lock on `key` that keeps `owner` from `wanted`, or null.
  const HeldLock* FirstConflict(const Key& key, const LockOwner& owner, const wire::LockRange& wanted) const;
  // Whether `owner` waiting for the holders of conflicting locks would close a cycle.
  bool WouldDeadlock(const LockOwner& owner, const Key& key, const wire::LockRange& wanted, int64_t now_ms) const;
  // Remembers (or refreshes) a blocking request that was not granted; ENOLCK past the bound.
  Status NoteWaiter(const LockOwner& owner, const Key& key, const wire::LockRange& wanted, uint64_t wait_id,
                    int64_t now_ms);
  void ForgetWaiter(const LockOwner& owner, uint64_t wait_id);
  // Drops a session's counts once it holds nothing.
  void ForgetIfIdle(uint64_t session);
  void MaybeExpireWaiters(int64_t now_ms);
  // Replaces what `owner` holds on `key` with `owned`; ENOLCK past the bounds.
  Status Replace(const LockOwner& owner, const Key& key, std::vector<HeldLock> owned);
  std::vector<HeldLock> OwnedBy(const LockOwner& owner, const Key& key) const;
  // The answer to a granted change: what the owner holds on the key now.
  wire::Reply Held(const LockOwner& owner, const Key& key) const;

  const int64_t session_timeout_ms_;
  const LockLimits limits_;
  int64_t grace_until_ms_ = 0;
  int64_t last_waiter_sweep_ms_ = 0;
  std::map<Key, std::vector<HeldLock>> locks_;  // every owner's, by start within an owner
  std::map<LockOwner, std::vector<Waiter>> waiters_;
  std::unordered_map<uint64_t, SessionCounts> per_session_;
  size_t lock_count_ = 0;
  size_t waiter_count_ = 0;
};

}  // namespace hafs::master
