#include "mount/write_back_rules.h"

#include <sys/stat.h>

#include <algorithm>

#include "common/block_checksum.h"

namespace hafs::mount {

namespace {

constexpr uint32_t kPermissionBits = 0777;

bool InGroup(uint32_t gid, const wire::Credentials& credentials) {
  return credentials.gid() == gid ||
         std::find(credentials.groups().begin(), credentials.groups().end(), gid) != credentials.groups().end();
}

// Whether the mode bits of `dir` that apply to the caller grant all of `wanted` (rwx as 4, 2,
// 1); root may do anything in a directory (a directory delegated has no ACL).
bool Permitted(const wire::Attr& dir, const wire::Credentials& credentials, uint32_t wanted) {
  if (credentials.uid() == 0) return true;
  uint32_t bits = dir.uid() == credentials.uid() ? dir.mode() >> 6
                  : InGroup(dir.gid(), credentials) ? dir.mode() >> 3
                                                    : dir.mode();
  return (bits & wanted) == wanted;
}

}  // namespace

bool MayChangeEntries(const wire::Attr& dir, const wire::Credentials& credentials) {
  return Permitted(dir, credentials, 3);
}

bool MaySearch(const wire::Attr& dir, const wire::Credentials& credentials) { return Permitted(dir, credentials, 1); }

bool OwnerOrRoot(const wire::Attr& file, const wire::Credentials& credentials) {
  return credentials.uid() == 0 || credentials.uid() == file.uid();
}

uint32_t ChmodBits(const wire::Attr& file, uint32_t mode, const wire::Credentials& credentials) {
  uint32_t bits = mode & 07777;
  if ((bits & S_ISGID) && credentials.uid() != 0 && !InGroup(file.gid(), credentials)) bits &= ~S_ISGID;
  return bits;
}

wire::Attr NewAttr(uint64_t inode, uint32_t mode, const wire::Attr& dir, const wire::Credentials& credentials,
                   int64_t now_ns) {
  wire::Attr attr;
  attr.set_inode(inode);
  uint32_t gid = credentials.gid();
  if (dir.mode() & S_ISGID) {
    gid = dir.gid();
    if (S_ISDIR(mode)) mode |= S_ISGID;
  }
  attr.set_mode(mode & ~(credentials.umask() & kPermissionBits));
  attr.set_uid(credentials.uid());
  attr.set_gid(gid);
  attr.set_nlink(S_ISDIR(mode) ? 2 : 1);
  attr.set_atime_ns(now_ns);
  attr.set_mtime_ns(now_ns);
  attr.set_ctime_ns(now_ns);
  return attr;
}

void Touch(wire::Attr* dir, int64_t now_ns) {
  dir->set_mtime_ns(now_ns);
  dir->set_ctime_ns(now_ns);
}

void Named(const wire::Envelope& request, std::vector<uint64_t>* dirs, std::vector<uint64_t>* inodes) {
  switch (request.body_case()) {
    case wire::Envelope::kMknod: dirs->push_back(request.mknod().parent()); break;
    case wire::Envelope::kMkdir: dirs->push_back(request.mkdir().parent()); break;
    case wire::Envelope::kSymlink: dirs->push_back(request.symlink().parent()); break;
    case wire::Envelope::kUnlink: dirs->push_back(request.unlink().parent()); break;
    case wire::Envelope::kRmdir: dirs->push_back(request.rmdir().parent()); break;
    case wire::Envelope::kLink: dirs->push_back(request.link().new_parent()); break;
    case wire::Envelope::kRename:
      dirs->push_back(request.rename().parent());
      dirs->push_back(request.rename().new_parent());
      break;
    case wire::Envelope::kSetAttr: dirs->push_back(request.set_attr().inode()); break;
    case wire::Envelope::kSetXattr: dirs->push_back(request.set_xattr().inode()); break;
    case wire::Envelope::kRemoveXattr: dirs->push_back(request.remove_xattr().inode()); break;
    case wire::Envelope::kGetAttr: inodes->push_back(request.get_attr().inode()); break;
    case wire::Envelope::kGetXattr: inodes->push_back(request.get_xattr().inode()); break;
    case wire::Envelope::kListXattr: inodes->push_back(request.list_xattr().inode()); break;
    case wire::Envelope::kReadlink: inodes->push_back(request.readlink().inode()); break;
    case wire::Envelope::kReadDir: inodes->push_back(request.read_dir().inode()); break;
    case wire::Envelope::kLookup: inodes->push_back(request.lookup().parent()); break;
    default: break;
  }
}

uint64_t ChangedInode(const wire::Envelope& request) {
  switch (request.body_case()) {
    case wire::Envelope::kSetAttr: return request.set_attr().inode();
    case wire::Envelope::kWriteDone: return request.write_done().inode();
    case wire::Envelope::kAppend: return request.append().inode();
    case wire::Envelope::kFallocate: return request.fallocate().inode();
    case wire::Envelope::kLink: return request.link().inode();
    case wire::Envelope::kSetXattr: return request.set_xattr().inode();
    case wire::Envelope::kRemoveXattr: return request.remove_xattr().inode();
    default: return 0;
  }
}

uint64_t AllocatedBytes(const std::set<uint64_t>& leased, uint64_t size) {
  uint64_t allocated = 0;
  for (uint64_t index : leased) {
    uint64_t start = index * kChunkSize;
    if (start < size) allocated += std::min(kChunkSize, size - start);
  }
  return allocated;
}

bool Independent(const wire::Envelope& request) {
  switch (request.body_case()) {
    case wire::Envelope::kChangeBatch:
    case wire::Envelope::kDelegation:
    case wire::Envelope::kWatchNames:
    case wire::Envelope::kSession:
    case wire::Envelope::kCloseFiles:  // with the queue when it is not empty (WriteBack::BeforeCall)
    case wire::Envelope::kReleaseLeases:  // ahead of its WriteDone: the lease ends early, nothing more
    case wire::Envelope::kMount:
    case wire::Envelope::kStatFs:
    case wire::Envelope::kReadlink:
    case wire::Envelope::kLookup:
    case wire::Envelope::kGetAttr:
    case wire::Envelope::kReadDir:
    case wire::Envelope::kGetXattr:
    case wire::Envelope::kListXattr:
      return true;
    default:
      return false;
  }
}

}  // namespace hafs::mount
