// The kernel's inode numbers and the master's. The kernel knows the mount's root as
// FUSE_ROOT_ID (1); in a subtree mount that root is the master's inode mount_root. The two
// numbers trade places and every other inode keeps its master number, so the master's
// inode 1 (the file system's root, outside the subtree) cannot pass for the mount's root.
// Used at the FUSE boundary only (fuse_convert.h); behind it the mount speaks master numbers.
#pragma once

#include <cstdint>

namespace hafs::mount {

class InodeMapping {
 public:
  // mount_root 0 (the whole file system) or 1 maps every number to itself.
  explicit InodeMapping(uint64_t mount_root = kRootInode) : mount_root_(mount_root == 0 ? kRootInode : mount_root) {}

  uint64_t ToMaster(uint64_t kernel_inode) const { return Swap(kernel_inode); }
  uint64_t ToKernel(uint64_t master_inode) const { return Swap(master_inode); }

 private:
  // FUSE_ROOT_ID, and the master's root directory.
  static constexpr uint64_t kRootInode = 1;

  uint64_t Swap(uint64_t inode) const {
    if (inode == kRootInode) return mount_root_;
    if (inode == mount_root_) return kRootInode;
    return inode;
  }

  uint64_t mount_root_;
};

}  // namespace hafs::mount
