// The FUSE low-level operations of hafs-mount, one function per operation (the shape
// of libfuse's passthrough_ll.c): each turns a kernel request into master or
// chunkserver calls and replies on every path.
//   fuse_ops_namespace.cc  lookup, forget, getattr, setattr, mknod, mkdir, unlink,
//                          rmdir, rename, link, symlink, readlink, statfs
//   fuse_ops_file.cc       create, open, read, write, flush, fsync, release
//   fuse_ops_dir.cc        opendir, readdir, readdirplus, releasedir
//   fuse_ops_lock.cc       getlk, setlk, flock
//   fuse_ops_fallocate.cc  fallocate
//   fuse_ops.cc            init and the operations table
#pragma once

#include "mount/fuse_api.h"

namespace hafs::mount {

fuse_lowlevel_ops MakeOperations();

void OpInit(void* userdata, fuse_conn_info* conn);
void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name);
void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets);
void OpGetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpSetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi);
void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev);
void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name);
void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name);
void OpRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent, const char* new_name,
              unsigned int flags);
void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char* new_name);
void OpSymlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name);
void OpReadlink(fuse_req_t req, fuse_ino_t ino);
void OpStatFs(fuse_req_t req, fuse_ino_t ino);

void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi);
void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi);
void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t offset, fuse_file_info* fi);
void OpFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpFsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);

// Extended attributes (fuse_ops_xattr.cc).
void OpSetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size, int flags);
void OpGetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
void OpListXattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void OpRemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name);

// File locks (fuse_ops_lock.cc).
void OpGetLk(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, struct flock* lock);
void OpSetLk(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, struct flock* lock, int sleep);
void OpFlock(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, int op);

// Reserving space and punching holes (fuse_ops_fallocate.cc).
void OpFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, fuse_file_info* fi);

void OpOpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi);
void OpReadDirPlus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi);
void OpReleaseDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpFsyncDir(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);

}  // namespace hafs::mount
