// Where the links of a file with several hard links live. Inode::parent names one directory
// holding a link; this keeps the others, for files that have more than one link only, so
// a file without extra links costs nothing here. An export's subtree check
// (Namespace::IsUnder) needs them all: a file linked both inside and outside a subtree is
// inside it, and an unlink must never leave Inode::parent naming a directory that no
// longer holds the file.
//
// Derived state: never logged or checkpointed, rebuilt from the directory entries on load
// and changed by the same mutations live and at replay.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace hafs::master {

class LinkParents {
 public:
  // A new link to `inode` in `parent`; `*primary` (its Inode::parent) becomes `parent`.
  void Linked(uint64_t inode, uint64_t parent, uint64_t* primary);
  // A link to `inode` in `parent` went away and others remain: `*primary` moves to another
  // link's directory when it named `parent`.
  void Unlinked(uint64_t inode, uint64_t parent, uint64_t* primary);
  // A link of `inode` moved from directory `from` to `to` (rename).
  void Moved(uint64_t inode, uint64_t from, uint64_t to, uint64_t* primary);
  // A link found loading a checkpoint: the first becomes `*primary` (0 until then).
  void Restored(uint64_t inode, uint64_t parent, uint64_t* primary);
  // The inode is gone.
  void Forget(uint64_t inode) { extra_.erase(inode); }

  // The directories of `inode`'s links besides its Inode::parent (empty for most files).
  std::span<const uint64_t> Others(uint64_t inode) const;

 private:
  std::unordered_map<uint64_t, std::vector<uint64_t>> extra_;
};

}  // namespace hafs::master
