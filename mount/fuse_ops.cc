#include "mount/fuse_ops.h"

#include "common/log.h"
#include "mount/mount_context.h"

namespace hafs::mount {
namespace {

// Matches the largest write the kernel will send when it may (libfuse caps it at its
// buffer size, 1 MiB on this libfuse); fewer, larger chained writes are faster.
constexpr unsigned kMaxWriteBytes = 1024 * 1024;
// Must equal the max_read mount option main.cc passes, or libfuse refuses the session.
constexpr unsigned kMaxReadBytes = 1024 * 1024;

}  // namespace

void OpInit(void* userdata, fuse_conn_info* conn) {
  conn->max_write = kMaxWriteBytes;
  conn->max_read = kMaxReadBytes;
  // The kernel keeps the smaller of this and the read-ahead window main.cc set in sysfs
  // before this reply (read_ahead.h), so ask for that window.
  const auto& context = *static_cast<MountContext*>(userdata);
  conn->max_readahead = static_cast<unsigned>(context.options.read_ahead_kb) * 1024;
  // No writeback cache: a write returns only when every replica holds it.
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  // O_TRUNC arrives as a separate setattr(size 0), which runs the truncate path.
  conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
  // Let the kernel clear setuid/setgid bits on write (via setattr), not us.
  conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
  // Always readdirplus: one listing fills the kernel's attribute cache.
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  LOG(INFO) << "FUSE session ready: max_write " << conn->max_write << ", max_readahead " << conn->max_readahead;
}

fuse_lowlevel_ops MakeOperations() {
  fuse_lowlevel_ops ops{};
  ops.init = OpInit;
  ops.lookup = OpLookup;
  ops.forget = OpForget;
  ops.forget_multi = OpForgetMulti;
  ops.getattr = OpGetAttr;
  ops.setattr = OpSetAttr;
  ops.mknod = OpMknod;
  ops.mkdir = OpMkdir;
  ops.unlink = OpUnlink;
  ops.rmdir = OpRmdir;
  ops.rename = OpRename;
  ops.link = OpLink;
  ops.symlink = OpSymlink;
  ops.readlink = OpReadlink;
  ops.statfs = OpStatFs;
  ops.create = OpCreate;
  ops.open = OpOpen;
  ops.read = OpRead;
  ops.write = OpWrite;
  ops.flush = OpFlush;
  ops.fsync = OpFsync;
  ops.release = OpRelease;
  ops.opendir = OpOpenDir;
  ops.readdir = OpReadDir;
  ops.readdirplus = OpReadDirPlus;
  ops.releasedir = OpReleaseDir;
  return ops;
}

}  // namespace hafs::mount
