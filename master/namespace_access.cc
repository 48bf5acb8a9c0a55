// Permission checks of namespace requests (docs/design.md, "Permissions"): the inodes a
// request names, handed to AccessCheck with the request's credentials. They run when the
// request arrives, before its record is made, and never at replay: a logged record was
// allowed when it was made, and replay must rebuild the same tree whatever the checks
// become. A missing inode or name passes, so that the request itself answers ENOENT,
// ENOTDIR or EEXIST, in Linux's order: search permission on a parent comes before a
// missing or existing name, the name before write permission on the parent.
#include <sys/stat.h>

#include "master/access_check.h"
#include "master/namespace.h"

namespace hafs::master {

const Inode* Namespace::FindDirectoryInode(uint64_t id) const {
  const Inode* inode = inodes_.Find(id);
  return inode && S_ISDIR(inode->mode) ? inode : nullptr;
}

const Inode* Namespace::FindEntryInode(uint64_t parent, std::string_view name) const {
  const Directory& directory = directories_.at(parent);
  auto entry = directory.entries.find(name);
  return entry == directory.entries.end() ? nullptr : inodes_.Find(entry->inode);
}

Status Namespace::MayLookup(const wire::LookupRequest& request) const {
  const Inode* parent = FindDirectoryInode(request.parent());
  return parent ? Access(request.credentials()).MaySearch(*parent) : Status::Ok();
}

Status Namespace::MayReadDir(const wire::ReadDirRequest& request) const {
  const Inode* directory = FindDirectoryInode(request.inode());
  return directory ? Access(request.credentials()).MayRead(*directory) : Status::Ok();
}

Status Namespace::MayReadData(uint64_t inode, const wire::Credentials& credentials) const {
  const Inode* file = inodes_.Find(inode);
  return file ? Access(credentials).MayReadData(*file) : Status::Ok();
}

Status Namespace::MayWriteData(uint64_t inode, const wire::Credentials& credentials) const {
  const Inode* file = inodes_.Find(inode);
  return file ? Access(credentials).MayWriteData(*file) : Status::Ok();
}

Status Namespace::MayCreate(const AccessCheck& access, uint64_t parent, std::string_view name, uint32_t mode) const {
  const Inode* directory = FindDirectoryInode(parent);
  if (!directory) return Status::Ok();
  if (Status status = access.MaySearch(*directory); !status.ok()) return status;
  if (FindEntryInode(parent, name)) return Status::Ok();
  return access.MayCreateIn(*directory, mode);
}

Status Namespace::MayRemove(const AccessCheck& access, uint64_t parent, std::string_view name) const {
  const Inode* directory = FindDirectoryInode(parent);
  if (!directory) return Status::Ok();
  if (Status status = access.MaySearch(*directory); !status.ok()) return status;
  const Inode* victim = FindEntryInode(parent, name);
  return victim ? access.MayDelete(*directory, *victim) : Status::Ok();
}

Status Namespace::MayRename(const wire::RenameRequest& request) const {
  AccessCheck access = Access(request.credentials());
  const Inode* source_parent = FindDirectoryInode(request.parent());
  const Inode* target_parent = FindDirectoryInode(request.new_parent());
  if (!source_parent || !target_parent) return Status::Ok();
  if (Status status = access.MaySearch(*source_parent); !status.ok()) return status;
  if (Status status = access.MaySearch(*target_parent); !status.ok()) return status;
  const Inode* source = FindEntryInode(request.parent(), request.name());
  const Inode* target = FindEntryInode(request.new_parent(), request.new_name());
  bool exchange = request.flags() & kRenameExchange;
  if (!source || (exchange && !target)) return Status::Ok();
  return access.MayRename({.source_parent = *source_parent,
                           .source = *source,
                           .target_parent = *target_parent,
                           .target = target,
                           .same_parent = request.parent() == request.new_parent(),
                           .exchange = exchange});
}

Status Namespace::Authorize(wire::LogRecord* record) const {
  switch (record->event_case()) {
    case wire::LogRecord::kMknod: {
      wire::MknodRequest& mknod = *record->mutable_mknod();
      AccessCheck access = Access(mknod.credentials());
      if (Status status = MayCreate(access, mknod.parent(), mknod.name(), mknod.mode()); !status.ok()) return status;
      // An existing name passed MayCreate: mknod answers EEXIST, a create (not exclusive)
      // the existing file, whose open the kernel checked (open tickets will check it here).
      const Inode* parent = FindDirectoryInode(mknod.parent());
      if (parent) mknod.set_mode(access.NewFileMode(*parent, mknod.mode()));
      return Status::Ok();
    }
    case wire::LogRecord::kMkdir:
      return MayCreate(Access(record->mkdir().credentials()), record->mkdir().parent(), record->mkdir().name());
    case wire::LogRecord::kSymlink:
      return MayCreate(Access(record->symlink().credentials()), record->symlink().parent(), record->symlink().name());
    case wire::LogRecord::kLink:
      // The source's own path was searched by the kernel; the request names only its inode.
      return MayCreate(Access(record->link().credentials()), record->link().new_parent(), record->link().new_name());
    case wire::LogRecord::kUnlink:
      return MayRemove(Access(record->unlink().credentials()), record->unlink().parent(), record->unlink().name());
    case wire::LogRecord::kRmdir:
      return MayRemove(Access(record->rmdir().credentials()), record->rmdir().parent(), record->rmdir().name());
    case wire::LogRecord::kRename:
      return MayRename(record->rename());
    case wire::LogRecord::kSetAttr: {
      wire::SetAttrRequest& set_attr = *record->mutable_set_attr();
      const Inode* inode = inodes_.Find(set_attr.inode());
      return inode ? Access(set_attr.credentials()).MaySetAttr(*inode, &set_attr) : Status::Ok();
    }
    case wire::LogRecord::kSetGoal: {
      // A goal out of range is EINVAL whoever asks (SetGoal).
      const Inode* inode = inodes_.Find(record->set_goal().inode());
      if (!inode || !ValidGoal(record->set_goal().goal()) ||
          Access(record->set_goal().credentials()).MayChangeGoal(*inode)) {
        return Status::Ok();
      }
      return Status::Error(EPERM, "only the owner of inode " + std::to_string(record->set_goal().inode()) +
                                      " or root may change its goal");
    }
    case wire::LogRecord::kSetXattr: {
      const Inode* inode = inodes_.Find(record->set_xattr().inode());
      return inode ? Access(record->set_xattr().credentials()).MayChangeXattr(*inode, record->set_xattr().name())
                   : Status::Ok();
    }
    case wire::LogRecord::kRemoveXattr: {
      const Inode* inode = inodes_.Find(record->remove_xattr().inode());
      return inode ? Access(record->remove_xattr().credentials()).MayChangeXattr(*inode, record->remove_xattr().name())
                   : Status::Ok();
    }
    case wire::LogRecord::kWriteDone:
      return MayWriteData(record->write_done().inode(), record->write_done().credentials());
    case wire::LogRecord::kAppend:
      return MayWriteData(record->append().inode(), record->append().credentials());
    case wire::LogRecord::kFallocate:
      return MayWriteData(record->fallocate().inode(), record->fallocate().credentials());
    default:
      return Status::Ok();
  }
}

}  // namespace hafs::master
