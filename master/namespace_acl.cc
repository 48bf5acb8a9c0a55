// POSIX ACLs of the namespace's inodes (docs/design.md, "POSIX ACLs"), kept as the xattrs
// system.posix_acl_access and system.posix_acl_default: setting and removing them, chmod's
// and create's effect on them, and the lookup AccessCheck evaluates them by. What is stored
// was validated (PosixAcl::Parse) and is canonical; an access ACL that says no more than the
// mode bits is not stored at all, so ordinary files cost nothing.
#include <sys/stat.h>

#include "master/access_check.h"
#include "master/namespace.h"

namespace hafs::master {
namespace {

constexpr uint32_t kPermissionBits = 0777;

}  // namespace

AccessCheck Namespace::Access(const wire::Credentials& credentials) const {
  return AccessCheck(credentials, [this](const Inode& inode) -> std::optional<PosixAcl> {
    const std::string* stored = xattrs_.Find(inodes_.IdOf(inode), kAccessAclName);
    if (!stored) return std::nullopt;
    auto acl = PosixAcl::Parse(*stored);
    return acl ? std::optional(std::move(*acl)) : std::nullopt;
  });
}

Status Namespace::KeepAccessAcl(uint64_t id, Inode& inode, const PosixAcl& acl) {
  if (acl.EquivalentToMode()) {
    (void)xattrs_.Remove(id, kAccessAclName);  // ENODATA: there was none
    inode.has_access_acl = false;
  } else {
    if (Status status = xattrs_.Set(id, kAccessAclName, acl.Serialize(), 0); !status.ok()) return status;
    inode.has_access_acl = true;
  }
  inode.mode = (inode.mode & ~kPermissionBits) | acl.ModeBits();
  return Status::Ok();
}

Status Namespace::SetAcl(const wire::SetXattrRequest& request, Inode& inode) {
  if (S_ISLNK(inode.mode)) return Status::Error(EOPNOTSUPP, "symlinks have no POSIX ACLs");
  auto acl = PosixAcl::Parse(request.value());
  if (!acl) return acl.error();
  if (request.name() == kAccessAclName) return KeepAccessAcl(request.inode(), inode, *acl);
  if (!S_ISDIR(inode.mode)) return Status::Error(EACCES, "only directories have a default ACL");
  return xattrs_.Set(request.inode(), kDefaultAclName, acl->Serialize(), 0);
}

Status Namespace::ChmodAccessAcl(uint64_t id, Inode& inode, uint32_t mode) {
  const std::string* stored = xattrs_.Find(id, kAccessAclName);
  if (!stored) return Status::Ok();
  auto acl = PosixAcl::Parse(*stored);
  if (!acl) return acl.error();
  acl->Chmod(mode);
  return KeepAccessAcl(id, inode, *acl);
}

Result<std::optional<PosixAcl>> Namespace::DefaultAcl(uint64_t directory) const {
  const std::string* stored = xattrs_.Find(directory, kDefaultAclName);
  if (!stored) return std::nullopt;
  auto acl = PosixAcl::Parse(*stored);
  if (!acl) return Fail(acl.error());
  return std::optional(std::move(*acl));
}

void Namespace::InheritAcls(uint64_t id, Inode& inode, const std::optional<PosixAcl>& inherited, uint32_t umask) {
  if (!inherited) {
    // The kernel leaves the umask to a file system with ACLs (FUSE_CAP_POSIX_ACL); applying
    // it again to a mode it already masked changes nothing.
    inode.mode &= ~(umask & kPermissionBits);
    return;
  }
  // A new inode has no xattrs yet, and two ACLs within PosixAcl::kMaxEntries are far inside
  // XattrStore's bounds: storing them cannot fail.
  if (S_ISDIR(inode.mode)) (void)xattrs_.Set(id, kDefaultAclName, inherited->Serialize(), 0);
  PosixAcl access = *inherited;
  inode.mode = access.MaskForCreate(inode.mode);
  (void)KeepAccessAcl(id, inode, access);
}

}  // namespace hafs::master
