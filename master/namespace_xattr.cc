// Extended attributes of the namespace's inodes (docs/design.md, "Extended attributes"):
// the requests, on XattrStore, with ctime kept as Linux keeps it (a change sets it). The
// two POSIX ACL names go through namespace_acl.cc.
#include "master/access_check.h"
#include "master/namespace.h"

namespace hafs::master {

Status Namespace::SetXattr(const wire::SetXattrRequest& request, int64_t now_ns) {
  Inode* inode = inodes_.Find(request.inode());
  if (!inode) return Status::Error(ENOENT, "no inode " + std::to_string(request.inode()));
  if (Status status = XattrStore::CheckName(request.name()); !status.ok()) return status;
  Status status = request.name().starts_with("system.")
                      ? SetAcl(request, *inode)
                      : xattrs_.Set(request.inode(), request.name(), request.value(), request.flags());
  if (!status.ok()) return status;
  inode->ctime_ns = now_ns;
  return Status::Ok();
}

Status Namespace::RemoveXattr(const wire::RemoveXattrRequest& request, int64_t now_ns) {
  Inode* inode = inodes_.Find(request.inode());
  if (!inode) return Status::Error(ENOENT, "no inode " + std::to_string(request.inode()));
  if (Status status = XattrStore::CheckName(request.name()); !status.ok()) return status;
  if (Status status = xattrs_.Remove(request.inode(), request.name()); !status.ok()) return status;
  if (request.name() == kAccessAclName) inode->has_access_acl = false;  // the mode bits stay as they are
  inode->ctime_ns = now_ns;
  return Status::Ok();
}

Status Namespace::GetXattr(const wire::GetXattrRequest& request, wire::Reply* reply) const {
  const Inode* inode = inodes_.Find(request.inode());
  if (!inode) return Status::Error(ENOENT, "no inode " + std::to_string(request.inode()));
  if (Status status = XattrStore::CheckName(request.name()); !status.ok()) return status;
  if (Status status = Access(request.credentials()).MayReadXattr(*inode, request.name()); !status.ok()) {
    return status;
  }
  const std::string* value = xattrs_.Find(request.inode(), request.name());
  if (!value) return Status::Error(ENODATA, "no such extended attribute");
  reply->set_xattr_value(*value);
  return Status::Ok();
}

Status Namespace::ListXattr(const wire::ListXattrRequest& request, wire::Reply* reply) const {
  if (!inodes_.Find(request.inode())) return Status::Error(ENOENT, "no inode " + std::to_string(request.inode()));
  AccessCheck access = Access(request.credentials());
  for (const std::string& name : xattrs_.Names(request.inode())) {
    if (access.MayListXattr(name)) reply->add_xattr_names(name);
  }
  return Status::Ok();
}

}  // namespace hafs::master
