#include "master/lock_ranges.h"

#include <algorithm>

namespace hafs::master {

bool Conflicts(const HeldLock& held, const LockOwner& owner, const wire::LockRange& wanted) {
  if (held.owner == owner || !Overlaps(wanted.start(), wanted.end(), held)) return false;
  return held.type == wire::LOCK_TYPE_WRITE || wanted.type() == wire::LOCK_TYPE_WRITE;
}

std::vector<HeldLock> ApplyRange(const std::vector<HeldLock>& owned, const LockOwner& owner,
                                 const wire::LockRange& wanted) {
  const uint64_t start = wanted.start();
  const uint64_t end = wanted.end();
  std::vector<HeldLock> pieces;
  pieces.reserve(owned.size() + 2);
  for (const HeldLock& lock : owned) {
    if (!Overlaps(start, end, lock)) {
      pieces.push_back(lock);
      continue;
    }
    // What is left of a lock the new range cuts through: the part before it, the part after.
    if (lock.start < start) pieces.push_back({owner, lock.start, start - 1, lock.type, lock.pid});
    if (lock.end > end) pieces.push_back({owner, end + 1, lock.end, lock.type, lock.pid});
  }
  if (wanted.type() != wire::LOCK_TYPE_UNLOCK) pieces.push_back({owner, start, end, wanted.type(), wanted.pid()});
  std::sort(pieces.begin(), pieces.end(), [](const HeldLock& a, const HeldLock& b) { return a.start < b.start; });
  std::vector<HeldLock> merged;
  for (const HeldLock& piece : pieces) {
    // end + 1 cannot wrap: no lock ends past kLockEnd.
    if (!merged.empty() && merged.back().type == piece.type && merged.back().end + 1 >= piece.start) {
      merged.back().end = std::max(merged.back().end, piece.end);
      continue;
    }
    merged.push_back(piece);
  }
  return merged;
}

}  // namespace hafs::master
