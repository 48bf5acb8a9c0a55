#include "mount/fuse_ops.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "mount/mount_context.h"
#include "mount/mount_metrics.h"

namespace hafs::mount {
namespace {

// Matches the largest write the kernel will send when it may (libfuse caps it at its
// buffer size, 1 MiB on this libfuse); fewer, larger chained writes are faster.
constexpr unsigned kMaxWriteBytes = 1024 * 1024;
// Must equal the max_read mount option main.cc passes, or libfuse refuses the session.
constexpr unsigned kMaxReadBytes = 1024 * 1024;

// An operation's name as a template argument of Timed.
template <size_t N>
struct OpName {
  constexpr OpName(const char (&text)[N]) { std::copy_n(text, N, name); }
  char name[N];
};

// Counts and times operation Op. Every operation replies before it returns, so this is
// the time until the kernel has its answer. Its series are looked up once.
template <OpName kName, auto Op, typename... Args>
void Timed(fuse_req_t req, Args... args) {
  static metrics::Counter& count = Metrics().operations.With(kName.name);
  static metrics::Histogram& duration = Metrics().operation_duration.With(kName.name);
  auto started = std::chrono::steady_clock::now();
  Op(req, args...);
  count.Increment();
  duration.Observe(metrics::SecondsSince(started));
}

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
  // Cluster-wide locks: the kernel forwards flock and POSIX (and OFD) locks to the master
  // through us instead of keeping them on this host only.
  conn->want |= conn->capable & (FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
  // POSIX ACLs: the kernel checks them too (from getxattr system.posix_acl_access, cached
  // until it next fetches the attributes). A new inode's ACLs are the master's to make, and
  // so is the umask (DONT_MASK: the kernel would apply it even under a default ACL, which
  // replaces it); the master gets it with the caller's credentials (docs/design.md, "POSIX ACLs").
  conn->want |= conn->capable & (FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK);
  // Always readdirplus: one listing fills the kernel's attribute cache.
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  LOG(INFO) << "FUSE session ready: max_write " << conn->max_write << ", max_readahead " << conn->max_readahead;
}

fuse_lowlevel_ops MakeOperations() {
  fuse_lowlevel_ops ops{};
  ops.init = OpInit;
  ops.lookup = Timed<"lookup", OpLookup>;
  ops.forget = Timed<"forget", OpForget>;
  ops.forget_multi = Timed<"forget_multi", OpForgetMulti>;
  ops.getattr = Timed<"getattr", OpGetAttr>;
  ops.setattr = Timed<"setattr", OpSetAttr>;
  ops.mknod = Timed<"mknod", OpMknod>;
  ops.mkdir = Timed<"mkdir", OpMkdir>;
  ops.unlink = Timed<"unlink", OpUnlink>;
  ops.rmdir = Timed<"rmdir", OpRmdir>;
  ops.rename = Timed<"rename", OpRename>;
  ops.link = Timed<"link", OpLink>;
  ops.symlink = Timed<"symlink", OpSymlink>;
  ops.readlink = Timed<"readlink", OpReadlink>;
  ops.statfs = Timed<"statfs", OpStatFs>;
  ops.create = Timed<"create", OpCreate>;
  ops.open = Timed<"open", OpOpen>;
  ops.read = Timed<"read", OpRead>;
  ops.write = Timed<"write", OpWrite>;
  ops.flush = Timed<"flush", OpFlush>;
  ops.fsync = Timed<"fsync", OpFsync>;
  ops.release = Timed<"release", OpRelease>;
  ops.setxattr = Timed<"setxattr", OpSetXattr>;
  ops.getxattr = Timed<"getxattr", OpGetXattr>;
  ops.listxattr = Timed<"listxattr", OpListXattr>;
  ops.removexattr = Timed<"removexattr", OpRemoveXattr>;
  ops.getlk = Timed<"getlk", OpGetLk>;
  ops.setlk = Timed<"setlk", OpSetLk>;
  ops.flock = Timed<"flock", OpFlock>;
  ops.fallocate = Timed<"fallocate", OpFallocate>;
  ops.opendir = Timed<"opendir", OpOpenDir>;
  ops.readdir = Timed<"readdir", OpReadDir>;
  ops.readdirplus = Timed<"readdirplus", OpReadDirPlus>;
  ops.releasedir = Timed<"releasedir", OpReleaseDir>;
  ops.fsyncdir = Timed<"fsyncdir", OpFsyncDir>;
  return ops;
}

}  // namespace hafs::mount
