#include "master/access_check.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace hafs::master {
namespace {

constexpr uint32_t kRead = 4;
constexpr uint32_t kWrite = 2;
constexpr uint32_t kExecute = 1;
constexpr uint32_t kSetIdBits = S_ISUID | S_ISGID;

uint32_t PermissionBits(uint32_t mode) { return mode & 07777; }

Status NotPermitted(const std::string& what) { return Status::Error(EPERM, what); }

std::string Octal(uint32_t bits) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", bits);
  return text;
}

}  // namespace

bool AccessCheck::InGroup(uint32_t gid) const {
  return credentials_.gid() == gid || std::ranges::find(credentials_.groups(), gid) != credentials_.groups().end();
}

bool AccessCheck::Grants(const Inode& inode, uint32_t want) const {
  if (inode.has_access_acl && acl_of_) {
    if (std::optional<PosixAcl> acl = acl_of_(inode)) {
      return acl->Grants(
          credentials_.uid(), [this](uint32_t gid) { return InGroup(gid); }, inode.uid, inode.gid, want);
    }
  }
  // One class only, as generic_permission: an owner denied by the owner bits is denied
  // even when the group or other bits would allow.
  uint32_t granted = inode.mode & 7;
  if (credentials_.uid() == inode.uid) {
    granted = (inode.mode >> 6) & 7;
  } else if (InGroup(inode.gid)) {
    granted = (inode.mode >> 3) & 7;
  }
  return (want & ~granted) == 0;
}

Status AccessCheck::Need(const Inode& inode, uint32_t want) const {
  if (Grants(inode, want)) return Status::Ok();
  if (IsRoot() && (!(want & kExecute) || S_ISDIR(inode.mode) || (inode.mode & 0111))) return Status::Ok();
  std::string wanted = std::string(want & kRead ? "r" : "") + (want & kWrite ? "w" : "") + (want & kExecute ? "x" : "");
  return Status::Error(EACCES, "uid " + Uid() + " may not " + wanted + " mode " + Octal(PermissionBits(inode.mode)) +
                                   " of uid " + std::to_string(inode.uid) + " gid " + std::to_string(inode.gid));
}

Status AccessCheck::MaySearch(const Inode& directory) const { return Need(directory, kExecute); }
Status AccessCheck::MayRead(const Inode& inode) const { return Need(inode, kRead); }
Status AccessCheck::MayWrite(const Inode& inode) const { return Need(inode, kWrite); }
Status AccessCheck::MayReadData(const Inode& file) const { return Owns(file) ? Status::Ok() : Need(file, kRead); }
Status AccessCheck::MayWriteData(const Inode& file) const { return Owns(file) ? Status::Ok() : Need(file, kWrite); }

Status AccessCheck::MayReadXattr(const Inode& inode, std::string_view name) const {
  auto none = [] { return Status::Error(ENODATA, "no such extended attribute for this caller"); };
  if (name.starts_with("trusted.")) return IsRoot() ? Status::Ok() : none();
  if (!name.starts_with("user.")) return Status::Ok();
  if (!S_ISREG(inode.mode) && !S_ISDIR(inode.mode)) return none();
  return Need(inode, kRead);
}

Status AccessCheck::MayChangeXattr(const Inode& inode, std::string_view name) const {
  if (name == kAccessAclName || name == kDefaultAclName) {
    if (S_ISLNK(inode.mode)) return Status::Error(EOPNOTSUPP, "symlinks have no POSIX ACLs");
    if (Owns(inode)) return Status::Ok();
    return NotPermitted("only the owner or root may change the POSIX ACLs of an inode of uid " +
                        std::to_string(inode.uid));
  }
  if (!name.starts_with("user.")) {
    if (IsRoot()) return Status::Ok();
    return NotPermitted("only root may change " + std::string(name.substr(0, name.find('.'))) +
                        ".* extended attributes");
  }
  if (!S_ISREG(inode.mode) && !S_ISDIR(inode.mode)) {
    return NotPermitted("user.* extended attributes exist on regular files and directories only");
  }
  if (S_ISDIR(inode.mode) && (inode.mode & S_ISVTX) && !Owns(inode)) {
    return NotPermitted("only the owner of a sticky directory may change its user.* extended attributes");
  }
  return Need(inode, kWrite);
}

Status AccessCheck::MayCreateIn(const Inode& directory, uint32_t mode) const {
  if (Status status = Need(directory, kWrite | kExecute); !status.ok()) return status;
  if ((S_ISCHR(mode) || S_ISBLK(mode)) && !IsRoot()) return NotPermitted("only root may make device nodes");
  return Status::Ok();
}

Status AccessCheck::MayDelete(const Inode& directory, const Inode& victim) const {
  if (Status status = Need(directory, kWrite | kExecute); !status.ok()) return status;
  if ((directory.mode & S_ISVTX) && !Owns(victim) && credentials_.uid() != directory.uid) {
    return NotPermitted("uid " + Uid() + " may not remove uid " + std::to_string(victim.uid) +
                        "'s entry from a sticky directory of uid " + std::to_string(directory.uid));
  }
  return Status::Ok();
}

Status AccessCheck::MayRename(const Rename& rename) const {
  if (rename.target == &rename.source) return Status::Ok();  // two links to one inode: nothing happens
  if (Status status = MayDelete(rename.source_parent, rename.source); !status.ok()) return status;
  Status target = rename.target ? MayDelete(rename.target_parent, *rename.target) : MayCreateIn(rename.target_parent);
  if (!target.ok()) return target;
  if (rename.same_parent) return Status::Ok();
  // A directory that changes parent has its ".." rewritten: that needs write permission on it.
  if (S_ISDIR(rename.source.mode)) {
    if (Status status = MayWrite(rename.source); !status.ok()) return status;
  }
  if (rename.exchange && rename.target && S_ISDIR(rename.target->mode)) return MayWrite(*rename.target);
  return Status::Ok();
}

uint32_t AccessCheck::ModeAfterChown(const Inode& inode, uint32_t mode) const {
  if (S_ISDIR(inode.mode)) return mode;
  mode &= ~S_ISUID;  // even when root changes the owner (Linux since 2.2.13)
  // setattr_should_drop_sgid: a group-executable S_ISGID always goes; without group x it
  // means mandatory locking and stays, unless the caller is outside the file's group.
  if ((inode.mode & S_ISGID) && ((inode.mode & S_IXGRP) || !(IsRoot() || InGroup(inode.gid)))) mode &= ~S_ISGID;
  return mode;
}

Status AccessCheck::MaySetAttr(const Inode& inode, wire::SetAttrRequest* request) const {
  uint32_t valid = request->valid();
  // truncate(2) needs write permission; a size on anything but a regular file is refused
  // by Namespace::SetAttr (EISDIR, EINVAL), as Linux does before this check. ftruncate
  // through a descriptor is judged as a data write (MayWriteData: the owner passes).
  if ((valid & wire::SET_ATTR_SIZE) && S_ISREG(inode.mode)) {
    Status status = request->through_open_file() ? MayWriteData(inode) : MayWrite(inode);
    if (!status.ok()) return status;
  }
  constexpr uint32_t kExplicitTimes = wire::SET_ATTR_ATIME | wire::SET_ATTR_MTIME | wire::SET_ATTR_CTIME;
  constexpr uint32_t kNowTimes = wire::SET_ATTR_ATIME_NOW | wire::SET_ATTR_MTIME_NOW;
  // Times set to now (utimes(NULL), and the mtime of a truncate): the owner or a writer.
  if ((valid & kNowTimes) && !(valid & kExplicitTimes) && !Owns(inode)) {
    if (Status status = MayWrite(inode); !status.ok()) return status;
  }
  // chown: root only, but an owner may "change" the owner to itself.
  if ((valid & wire::SET_ATTR_UID) && !IsRoot() && !(credentials_.uid() == inode.uid && request->uid() == inode.uid)) {
    return NotPermitted("uid " + Uid() + " may not give an inode of uid " + std::to_string(inode.uid) + " to uid " +
                        std::to_string(request->uid()));
  }
  // chgrp: root, or the owner to a group it is in (or the group the file has).
  if ((valid & wire::SET_ATTR_GID) && !IsRoot() &&
      !(credentials_.uid() == inode.uid && (request->gid() == inode.gid || InGroup(request->gid())))) {
    return NotPermitted("uid " + Uid() + " may not give an inode of uid " + std::to_string(inode.uid) + " to group " +
                        std::to_string(request->gid()));
  }
  if (valid & wire::SET_ATTR_MODE) {
    uint32_t old_bits = PermissionBits(inode.mode);
    uint32_t new_bits = PermissionBits(request->mode());
    if (!Owns(inode)) {
      // A write by a non-owner drops S_ISUID/S_ISGID (file_remove_privs), and through FUSE
      // the kernel sends that as a chmod by the writer: allowed to whoever may write.
      bool only_drops_set_id =
          new_bits != old_bits && (new_bits | kSetIdBits) == (old_bits | kSetIdBits) && (new_bits & ~old_bits) == 0;
      if (!only_drops_set_id || !S_ISREG(inode.mode) || !MayWrite(inode).ok()) {
        return NotPermitted("uid " + Uid() + " may not chmod an inode of uid " + std::to_string(inode.uid));
      }
    }
    uint32_t gid = (valid & wire::SET_ATTR_GID) ? request->gid() : inode.gid;
    if ((new_bits & S_ISGID) && !IsRoot() && !InGroup(gid)) request->set_mode(request->mode() & ~S_ISGID);
  }
  if ((valid & kExplicitTimes) && !Owns(inode)) {
    return NotPermitted("uid " + Uid() + " may not set the times of an inode of uid " + std::to_string(inode.uid));
  }
  if (valid & (wire::SET_ATTR_UID | wire::SET_ATTR_GID)) {
    uint32_t mode = (valid & wire::SET_ATTR_MODE) ? request->mode() : inode.mode;
    uint32_t after = ModeAfterChown(inode, mode);
    if (after != mode) {
      request->set_mode(after);
      request->set_valid(valid | wire::SET_ATTR_MODE);
    }
  }
  return Status::Ok();
}

uint32_t AccessCheck::NewFileMode(const Inode& directory, uint32_t mode) const {
  if (S_ISDIR(mode) || (mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP) || !(directory.mode & S_ISGID)) return mode;
  if (IsRoot() || InGroup(directory.gid)) return mode;
  return mode & ~S_ISGID;
}

}  // namespace hafs::master
