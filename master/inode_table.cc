#include "master/inode_table.h"

#include <iterator>

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
  if (!pages_[page]) {
    pages_[page] = std::make_unique<Page>();
    page_by_address_.emplace(pages_[page]->inodes.data(), page);
  }
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
  if (--pages_[page]->live_count == 0) {
    page_by_address_.erase(pages_[page]->inodes.data());
    pages_[page].reset();
  }
}

uint64_t InodeTable::IdOf(const Inode& inode) const {
  auto page = std::prev(page_by_address_.upper_bound(&inode));
  return page->second * kPageInodes + static_cast<uint64_t>(&inode - page->first);
}

void InodeTable::Clear() {
  pages_.clear();
  page_by_address_.clear();
  live_count_ = 0;
}

}  // namespace hafs::master
