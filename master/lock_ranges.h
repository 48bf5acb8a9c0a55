// The byte-range arithmetic of file locks (docs/design.md, "Locks"), as Linux's
// fs/locks.c applies it to one owner's POSIX locks: a new lock replaces what the owner held
// in its range (splitting a lock it cuts through), an unlock removes it, and the owner's
// locks of one type that overlap or touch merge into one. Ranges are inclusive, within
// [0, kLockEnd].
#pragma once

#include <compare>
#include <cstdint>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "common/protocol_limits.h"

namespace hafs::master {

// Who holds a lock: the mount's session and FUSE's lock_owner there.
struct LockOwner {
  uint64_t session = 0;
  uint64_t id = 0;
  auto operator<=>(const LockOwner&) const = default;
};

struct HeldLock {
  LockOwner owner;
  uint64_t start = 0;
  uint64_t end = 0;
  wire::LockType type = wire::LOCK_TYPE_READ;
  uint32_t pid = 0;
};

inline bool Overlaps(uint64_t start, uint64_t end, const HeldLock& lock) {
  return lock.start <= end && start <= lock.end;
}

// Whether `held` keeps `owner` from taking `wanted`: another owner's lock over some of
// the same bytes, one of the two exclusive.
bool Conflicts(const HeldLock& held, const LockOwner& owner, const wire::LockRange& wanted);

// One owner's locks (sorted by start, disjoint) after it sets `wanted` (or unlocks its
// range, for LOCK_TYPE_UNLOCK); sorted and disjoint again.
std::vector<HeldLock> ApplyRange(const std::vector<HeldLock>& owned, const LockOwner& owner,
                                 const wire::LockRange& wanted);

}  // namespace hafs::master
