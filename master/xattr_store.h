// Extended attributes of the master's inodes (docs/design.md, "Extended attributes"), in a
// side map: an inode without any costs nothing. This keeps names and values and applies
// setxattr(2)'s rules and Linux's limits; who may read or change which namespace is
// AccessCheck's (access_check.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace hafs::master {

inline constexpr uint32_t kXattrCreate = 1;   // XATTR_CREATE
inline constexpr uint32_t kXattrReplace = 2;  // XATTR_REPLACE

class XattrStore {
 public:
  static constexpr size_t kMaxNameBytes = 255;     // XATTR_NAME_MAX, prefix included
  static constexpr size_t kMaxValueBytes = 65536;  // XATTR_SIZE_MAX
  // Names and values of one inode together: past it ENOSPC, as a file system out of room for
  // them. Bounds what one inode costs the master (ext4 fits them in one block; XFS allows more).
  static constexpr size_t kMaxBytesPerInode = 1 << 20;

  // OK for a name of the user, trusted or security namespace within the limits, or one of
  // the two POSIX ACLs (system.posix_acl_access, _default; posix_acl.h, whose values the
  // namespace checks): ERANGE when empty or too long (as getxattr(2)), EOPNOTSUPP else.
  static Status CheckName(std::string_view name);

  // EEXIST with kXattrCreate when it exists, ENODATA with kXattrReplace when not, E2BIG for
  // a value over kMaxValueBytes, ENOSPC past kMaxBytesPerInode, EINVAL for unknown flags.
  Status Set(uint64_t inode, std::string_view name, std::string_view value, uint32_t flags);
  Status Remove(uint64_t inode, std::string_view name);  // ENODATA when it has none
  // The value, or null (ENODATA).
  const std::string* Find(uint64_t inode, std::string_view name) const;
  // Its names, in order; none for most inodes.
  std::vector<std::string> Names(uint64_t inode) const;
  bool Any(uint64_t inode) const { return by_inode_.contains(inode); }
  // The inode is gone.
  void Forget(uint64_t inode) { by_inode_.erase(inode); }
  void Clear() { by_inode_.clear(); }
  void ForEach(uint64_t inode, const std::function<void(const std::string&, const std::string&)>& visit) const;

 private:
  struct Attributes {
    std::map<std::string, std::string, std::less<>> values;
    size_t bytes = 0;  // names and values
  };
  std::unordered_map<uint64_t, Attributes> by_inode_;
};

}  // namespace hafs::master
