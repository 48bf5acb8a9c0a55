// POSIX ACLs as Linux keeps them (fs/posix_acl.c; docs/design.md, "POSIX ACLs"): parsed
// from and written as the value of the xattrs system.posix_acl_access and
// system.posix_acl_default, in Linux's format (include/uapi/linux/posix_acl_xattr.h), all
// little-endian:
//
//   u32 version (2), then per entry: u16 tag, u16 perm (r 4, w 2, x 1), u32 id
//
// where id is a uid (tag USER) or gid (GROUP) and 0xffffffff for the other tags. The
// entries come in the order USER_OBJ, USER..., GROUP_OBJ, GROUP..., MASK, OTHER; Parse
// sorts named entries by id. An ACL here is valid by construction: Parse refuses anything
// posix_acl_valid refuses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hafs::master {

inline constexpr std::string_view kAccessAclName = "system.posix_acl_access";
inline constexpr std::string_view kDefaultAclName = "system.posix_acl_default";

class PosixAcl {
 public:
  enum Tag : uint16_t { kUserObj = 0x01, kUser = 0x02, kGroupObj = 0x04, kGroup = 0x08, kMask = 0x10, kOther = 0x20 };
  struct Entry {
    uint16_t tag;
    uint16_t perm;  // r 4, w 2, x 1
    uint32_t id;    // USER and GROUP only
    bool operator==(const Entry&) const = default;
  };
  static constexpr uint32_t kVersion = 2;
  static constexpr uint32_t kUndefinedId = 0xffffffff;
  // More is ENOSPC: an ACL costs the master up to 8 KiB (ext4 fits about 500 in a 4 KiB block).
  static constexpr size_t kMaxEntries = 1024;

  // EINVAL for bytes that are no valid ACL: a wrong version or length, an unknown tag or
  // perm bit, entries out of order, a missing or repeated USER_OBJ, GROUP_OBJ or OTHER, a
  // named entry without MASK, two entries for one id; ENOSPC past kMaxEntries.
  static Result<PosixAcl> Parse(std::string_view bytes);
  // The ACL that says what the permission bits of `mode` say (USER_OBJ, GROUP_OBJ, OTHER).
  static PosixAcl FromMode(uint32_t mode);
  std::string Serialize() const;
  const std::vector<Entry>& entries() const { return entries_; }

  // Whether the permission bits say all this ACL says (no named entries, no MASK): then
  // Linux keeps no ACL at all (posix_acl_equiv_mode).
  bool EquivalentToMode() const { return entries_.size() == 3; }
  // The permission bits (rwxrwxrwx) the ACL gives the mode: USER_OBJ, MASK or else
  // GROUP_OBJ, OTHER.
  uint32_t ModeBits() const;
  // A chmod to `mode`: USER_OBJ, MASK (or GROUP_OBJ) and OTHER take its bits (posix_acl_chmod).
  void Chmod(uint32_t mode);
  // A new inode made with `mode` under a default ACL, which this is a copy of: the ACL and
  // the mode's permission bits mask each other (posix_acl_create_masq). Returns the mode.
  uint32_t MaskForCreate(uint32_t mode);

  // Whether the ACL of an inode owned by owner_uid:owner_gid grants every bit of `want` (r 4,
  // w 2, x 1) to the caller `uid` in the groups `in_group` says (posix_acl_permission): the
  // owner by USER_OBJ, a named user by its entry and MASK, a member of the owning or a named
  // group by any matching entry and MASK, everybody else by OTHER.
  bool Grants(uint32_t uid, const std::function<bool(uint32_t gid)>& in_group, uint32_t owner_uid, uint32_t owner_gid,
              uint32_t want) const;

 private:
  explicit PosixAcl(std::vector<Entry> entries) : entries_(std::move(entries)) {}
  Entry* Find(uint16_t tag);
  const Entry* Find(uint16_t tag) const;
  uint16_t MaskPerm() const;  // MASK's perm, or rwx without one

  std::vector<Entry> entries_;
};

}  // namespace hafs::master
