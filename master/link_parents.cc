#include "master/link_parents.h"

#include <algorithm>

namespace hafs::master {

void LinkParents::Linked(uint64_t inode, uint64_t parent, uint64_t* primary) {
  extra_[inode].push_back(*primary);
  *primary = parent;
}

void LinkParents::Unlinked(uint64_t inode, uint64_t parent, uint64_t* primary) {
  auto found = extra_.find(inode);
  if (found == extra_.end()) return;  // its only link: the inode goes with it
  std::vector<uint64_t>& others = found->second;
  if (*primary == parent) {
    *primary = others.back();
    others.pop_back();
  } else if (auto link = std::find(others.begin(), others.end(), parent); link != others.end()) {
    others.erase(link);
  }
  if (others.empty()) extra_.erase(found);
}

void LinkParents::Moved(uint64_t inode, uint64_t from, uint64_t to, uint64_t* primary) {
  if (*primary == from) {
    *primary = to;
    return;
  }
  auto found = extra_.find(inode);
  if (found == extra_.end()) return;
  if (auto link = std::find(found->second.begin(), found->second.end(), from); link != found->second.end()) *link = to;
}

void LinkParents::Restored(uint64_t inode, uint64_t parent, uint64_t* primary) {
  if (*primary == 0) {
    *primary = parent;
  } else {
    extra_[inode].push_back(parent);
  }
}

std::span<const uint64_t> LinkParents::Others(uint64_t inode) const {
  auto found = extra_.find(inode);
  if (found == extra_.end()) return {};
  return found->second;
}

}  // namespace hafs::master
