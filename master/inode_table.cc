#include "master/inode_table.h"

namespace hafs::master {

Inode* InodeTable::Find(uint64_t id) { return const_cast<Inode*>(static_cast<const InodeTable*>(this)->Find(id)); }

const Inode* InodeTable::Find(uint64_t id) const {
  uint64_t page = id / kPageInodes;
  if (page >= pages_.size() || !pages_[page]) return nullptr;
  const Inode& inode = pages_[page]->inodes[id % kPageInodes];
  return inode.mode == 0 ? nullptr : &inode;
}

Inode& InodeTable::Insert(uint64_t id) {
  uint64_t page = id / kPageInodes;
  if (page >= pages_.size()) pages_.resize(page + 1);
  if (!pages_[page]) pages_[page] = std::make_unique<Page>();
  pages_[page]->live_count++;
  live_count_++;
  Inode& inode = pages_[page]->inodes[id % kPageInodes];
  inode = Inode{};
  return inode;
}

void InodeTable::Erase(uint64_t id) {
  uint64_t page = id / kPageInodes;
  if (page >= pages_.size() || !pages_[page]) return;
  Inode& inode = pages_[page]->inodes[id % kPageInodes];
  if (inode.mode == 0) return;
  inode = Inode{};
  live_count_--;
  if (--pages_[page]->live_count == 0) pages_[page].reset();
}

void InodeTable::Clear() {
  pages_.clear();
  live_count_ = 0;
}

}  // namespace hafs::master
