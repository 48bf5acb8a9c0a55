// What the credentials a request claims may do to the master's inodes, decided as Linux
// decides it on ext4 (fs/namei.c generic_permission, with an inode's POSIX ACL where it has
// one as fs/posix_acl.c posix_acl_permission, may_create, may_delete,
// vfs_rename; fs/attr.c setattr_prepare, notify_change; fs/open.c chown_common). uid 0 is
// root: it passes every check here (CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN, CAP_FSETID),
// except search/execute of a non-directory with no x bit, which is no namespace request.
//
// Missing permission bits are EACCES, ownership rules EPERM. Only the bits, owners and
// groups of inodes are looked at: which inode is which (lookups, ENOENT, ENOTDIR) is the
// caller's business (Namespace::Authorize, namespace_access.cc). See docs/design.md,
// "Permissions".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/proto/hafs.pb.h"
#include "common/status.h"
#include "master/inode_table.h"
#include "master/posix_acl.h"

namespace hafs::master {

class AccessCheck {
 public:
  // The access ACL of an inode with Inode::has_access_acl, from where it is kept; none
  // (or no lookup at all) checks by the mode bits.
  using AclOf = std::function<std::optional<PosixAcl>(const Inode&)>;

  // `credentials` must outlive the check (it is the request's own).
  explicit AccessCheck(const wire::Credentials& credentials, AclOf acl_of = {})
      : credentials_(credentials), acl_of_(std::move(acl_of)) {}

  Status MaySearch(const Inode& directory) const;  // x: lookup of a name in it
  Status MayRead(const Inode& inode) const;        // r: listing a directory
  Status MayWrite(const Inode& inode) const;       // w: truncating a file
  // A data request through a descriptor the mount opened (GetChunks: read; WriteLease,
  // WriteDone: write). Judged as an NFS server judges a READ or WRITE, which cannot tell
  // when the descriptor was opened: the mode bits as now, except that the owner always
  // passes, so a file created 0444, or one fchmod'ed after its open, stays usable
  // through the descriptor (knfsd's owner override). A non-owner whose access was taken
  // away after the open gets EACCES where Linux would go on (docs/design.md).
  Status MayReadData(const Inode& file) const;
  Status MayWriteData(const Inode& file) const;
  // A new entry in `directory` (mknod, mkdir, symlink, link, rename's target): w and x on
  // it. A new character or block device needs root (EPERM, CAP_MKNOD).
  Status MayCreateIn(const Inode& directory, uint32_t mode = 0) const;
  // Removing `victim`'s entry from `directory` (unlink, rmdir, rename's source and a
  // replaced target): w and x on the directory, and in a sticky one (S_ISVTX) the caller
  // must own the victim or the directory (EPERM).
  Status MayDelete(const Inode& directory, const Inode& victim) const;

  // A rename of `source` from `source_parent` to `target_parent`, replacing (or with
  // `exchange`, swapping with) `target` when there is one.
  struct Rename {
    const Inode& source_parent;
    const Inode& source;
    const Inode& target_parent;
    const Inode* target;  // null: the new name is free
    bool same_parent;
    bool exchange;
  };
  Status MayRename(const Rename& rename) const;

  // A setattr of `inode`. On success `request` is left as Linux applies it: S_ISGID dropped
  // from a chmod by a non-root owner outside the file's group, S_ISUID (and a group-
  // executable S_ISGID) dropped from a non-directory whose owner or group changes.
  Status MaySetAttr(const Inode& inode, wire::SetAttrRequest* request) const;

  // The mode a new non-directory gets in `directory` (mode_strip_sgid): a group-executable
  // S_ISGID file in a setgid directory of a group the caller is not in loses S_ISGID, or
  // anyone could make a program that runs with that group.
  uint32_t NewFileMode(const Inode& directory, uint32_t mode) const;

  // Extended attributes, as fs/xattr.c xattr_permission and the capability checks decide:
  // user.* only on regular files and directories (elsewhere a change is EPERM, a read
  // ENODATA), read with r and changed with w, and in a sticky directory changed by its owner
  // only (EPERM); trusted.* root only (EPERM to change, ENODATA to read); security.* read by
  // anyone, changed by root only (EPERM); system.posix_acl_* (POSIX ACLs) read by anyone,
  // changed by the owner or root (EPERM, as set_posix_acl) on anything but a symlink
  // (EOPNOTSUPP). `name` passed XattrStore::CheckName.
  Status MayReadXattr(const Inode& inode, std::string_view name) const;
  Status MayChangeXattr(const Inode& inode, std::string_view name) const;
  // Whether a listing shows `name` (trusted.* only to root).
  bool MayListXattr(std::string_view name) const { return IsRoot() || !name.starts_with("trusted."); }

  // Replication goals are the owner's (or root's) to change (EPERM).
  bool MayChangeGoal(const Inode& inode) const { return Owns(inode); }

 private:
  bool IsRoot() const { return credentials_.uid() == 0; }
  std::string Uid() const { return std::to_string(credentials_.uid()); }  // for messages
  // The owner, or root (inode_owner_or_capable).
  bool Owns(const Inode& inode) const { return IsRoot() || credentials_.uid() == inode.uid; }
  // The caller's group or one of its supplementary groups (in_group_p; root is not in
  // every group, it is let through where Linux lets CAP_FSETID or CAP_CHOWN through).
  bool InGroup(uint32_t gid) const;
  // EACCES unless the inode's ACL, or without one the mode bits of the caller's class
  // (owner, group or others), grant every bit of `want` (a mask of 4 = r, 2 = w, 1 = x).
  Status Need(const Inode& inode, uint32_t want) const;
  bool Grants(const Inode& inode, uint32_t want) const;  // Need without root's override
  // The mode after a change of owner or group of `inode` with mode `mode`.
  uint32_t ModeAfterChown(const Inode& inode, uint32_t mode) const;

  const wire::Credentials& credentials_;
  AclOf acl_of_;
};

}  // namespace hafs::master
