// The master's inodes, kept compact: 64 bytes per inode in pages of kPageInodes slots
// indexed by inode number (numbers are handed out in increasing order and never reused,
// so pages fill densely; a page whose inodes are all gone is freed). Everything an
// inode may own beyond its attributes (directory entries, chunk ids, a symlink target)
// lives in side tables of Namespace, so an empty regular file owns no heap memory.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace hafs::master {

struct Inode {
  uint32_t mode = 0;  // 0 marks a free slot
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t nlink = 0;
  uint32_t rdev = 0;
  // Replication goal (1..9). It sits in what was padding after rdev.
  uint8_t goal = 0;
  // Whether it has a POSIX access ACL (the xattr system.posix_acl_access): permission
  // checks look the ACL up only then, so an inode without one costs them nothing more.
  bool has_access_acl = false;
  uint64_t size = 0;
  int64_t atime_ns = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  // The directory that holds it: a directory's "..", a file's newest link (exports confine a
  // subtree mount by walking these up, docs/exports.md).
  uint64_t parent = 0;
};
// The master's memory target (docs/design.md, "Memory") counts on this size.
static_assert(sizeof(Inode) == 64);

class InodeTable {
 public:
  Inode* Find(uint64_t id);
  const Inode* Find(uint64_t id) const;
  // Makes slot `id` live (it must be free) and returns it, zeroed.
  Inode& Insert(uint64_t id);
  void Erase(uint64_t id);
  void Clear();
  // The id of `inode`, a live inode of this table, from its address: for a check that holds
  // only the Inode and needs what a side table keeps by id (its POSIX ACL). O(log pages).
  uint64_t IdOf(const Inode& inode) const;
  uint64_t size() const { return live_count_; }

  // Calls visit(id, inode) for every live inode in increasing id order.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    for (uint64_t page = 0; page < pages_.size(); ++page) {
      if (!pages_[page]) continue;
      for (uint64_t slot = 0; slot < kPageInodes; ++slot) {
        const Inode& inode = pages_[page]->inodes[slot];
        if (inode.mode != 0) visit(page * kPageInodes + slot, inode);
      }
    }
  }

 private:
  static constexpr uint64_t kPageInodes = 1024;
  struct Page {
    std::array<Inode, kPageInodes> inodes{};
    uint32_t live_count = 0;
  };
  std::vector<std::unique_ptr<Page>> pages_;
  // Each live page's first slot, to its page number (IdOf).
  std::map<const Inode*, uint64_t, std::less<>> page_by_address_;
  uint64_t live_count_ = 0;
};

}  // namespace hafs::master
