#include "master/inode_grants.h"

namespace hafs::master {

bool InodeGrants::MayGrant(uint64_t session, uint32_t count) const {
  if (count == 0 || count > kMaxPerGrant) return false;
  auto found = sessions_.find(session);
  if (found == sessions_.end()) return sessions_.size() < kMaxSessions;
  return found->second.count + count <= kMaxPerSession;
}

void InodeGrants::Add(uint64_t session, uint64_t first, uint32_t count) {
  if (count == 0) return;
  Ranges& ranges = sessions_[session];
  ranges.ends[first] = first + count;
  ranges.count += count;
}

bool InodeGrants::Holds(uint64_t session, uint64_t inode) const {
  auto found = sessions_.find(session);
  if (found == sessions_.end()) return false;
  auto range = found->second.ends.upper_bound(inode);
  if (range == found->second.ends.begin()) return false;
  --range;
  return inode < range->second;
}

void InodeGrants::Take(uint64_t session, uint64_t inode) {
  if (!Holds(session, inode)) return;
  Ranges& ranges = sessions_[session];
  auto range = std::prev(ranges.ends.upper_bound(inode));
  uint64_t first = range->first;
  uint64_t end = range->second;
  ranges.ends.erase(range);
  if (first < inode) ranges.ends[first] = inode;
  if (inode + 1 < end) ranges.ends[inode + 1] = end;
  if (--ranges.count == 0) sessions_.erase(session);
}

uint64_t InodeGrants::Outstanding(uint64_t session) const {
  auto found = sessions_.find(session);
  return found == sessions_.end() ? 0 : found->second.count;
}

std::vector<wire::InodesGranted> InodeGrants::All() const {
  std::vector<wire::InodesGranted> all;
  for (const auto& [session, ranges] : sessions_) {
    for (const auto& [first, end] : ranges.ends) {
      wire::InodesGranted& granted = all.emplace_back();
      granted.set_session(session);
      granted.set_first(first);
      granted.set_count(static_cast<uint32_t>(end - first));
    }
  }
  return all;
}

}  // namespace hafs::master
