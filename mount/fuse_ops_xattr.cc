// FUSE operations on extended attributes; see fuse_ops.h. The master keeps them and
// checks who may read or change which (docs/design.md, "Extended attributes").
#include <string>
#include <string_view>

#include "mount/fuse_convert.h"
#include "mount/fuse_ops.h"

namespace hafs::mount {
namespace {

// getxattr and listxattr answer in the kernel's two steps: `size` 0 asks how many bytes the
// answer has, a buffer too small for it is ERANGE.
void ReplySized(fuse_req_t req, const std::string& bytes, size_t size) {
  if (size == 0) {
    fuse_reply_xattr(req, bytes.size());
  } else if (size < bytes.size()) {
    ReplyErrno(req, ERANGE);
  } else {
    fuse_reply_buf(req, bytes.data(), bytes.size());
  }
}

}  // namespace

void OpSetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size, int flags) {
  MountContext& context = Context(req);
  uint64_t inode = MasterInode(req, ino);
  wire::Envelope request;
  wire::SetXattrRequest* set = request.mutable_set_xattr();
  set->set_inode(inode);
  set->set_name(name);
  set->set_value(std::string(value, size));
  set->set_flags(static_cast<uint32_t>(flags));
  *set->mutable_credentials() = CallerCredentials(req);
  auto reply = context.master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  context.inodes.NoteXattrs(inode);
  ReplyErrno(req, 0);
}

void OpGetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  MountContext& context = Context(req);
  uint64_t inode = MasterInode(req, ino);
  // The kernel asks for this one before every write: answered here when the master's last
  // attributes said the file has none (another mount's setcap shows once they are fetched
  // again; every other name is always asked for).
  if (std::string_view(name) == "security.capability" && !context.inodes.MayHaveXattrs(inode)) {
    return ReplyErrno(req, ENODATA);
  }
  wire::Envelope request;
  wire::GetXattrRequest* get = request.mutable_get_xattr();
  get->set_inode(inode);
  get->set_name(name);
  *get->mutable_credentials() = CallerCredentials(req);
  auto reply = context.master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  ReplySized(req, reply->xattr_value(), size);
}

void OpListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  MountContext& context = Context(req);
  wire::Envelope request;
  request.mutable_list_xattr()->set_inode(MasterInode(req, ino));
  *request.mutable_list_xattr()->mutable_credentials() = CallerCredentials(req);
  auto reply = context.master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  std::string names;  // each NUL-terminated
  for (const std::string& name : reply->xattr_names()) names.append(name).push_back('\0');
  ReplySized(req, names, size);
}

void OpRemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  wire::Envelope request;
  wire::RemoveXattrRequest* remove = request.mutable_remove_xattr();
  remove->set_inode(MasterInode(req, ino));
  remove->set_name(name);
  *remove->mutable_credentials() = CallerCredentials(req);
  auto reply = Context(req).master.Call(std::move(request));
  ReplyErrno(req, reply ? 0 : reply.error().error());
}

}  // namespace hafs::mount
