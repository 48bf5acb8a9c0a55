// FUSE operations on file locks; see fuse_ops.h. The kernel forwards flock(2) and POSIX
// locks (fcntl, OFD) here once OpInit asked for them; the active master holds them for the
// whole cluster (mount/lock_client.h, docs/design.md "Locks").
#include <fcntl.h>
#include <sys/file.h>

#include "common/log.h"
#include "common/protocol_limits.h"
#include "mount/file_handle.h"
#include "mount/fuse_convert.h"
#include "mount/fuse_ops.h"

namespace hafs::mount {
namespace {

LockTarget TargetOf(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, wire::LockKind kind) {
  const FileHandle& handle = *reinterpret_cast<FileHandle*>(fi->fh);
  bool write_only = (handle.open_flags & O_ACCMODE) == O_WRONLY;
  return {MasterInode(req, ino), kind, fi->lock_owner, fi->fh, handle.opener, write_only};
}

wire::LockType TypeOf(short type) {
  if (type == F_RDLCK) return wire::LOCK_TYPE_READ;
  if (type == F_WRLCK) return wire::LOCK_TYPE_WRITE;
  return wire::LOCK_TYPE_UNLOCK;
}

// libfuse gives l_start >= 0 and l_len 0 ("to the end") or the range's length, from the
// kernel's inclusive range; anything else is refused as the kernel would (EINVAL).
Result<wire::LockRange> RangeOf(const struct flock& lock) {
  if (lock.l_start < 0 || lock.l_len < 0) return Fail(EINVAL, "a lock range before the start of the file");
  uint64_t start = static_cast<uint64_t>(lock.l_start);
  uint64_t length = static_cast<uint64_t>(lock.l_len);
  wire::LockRange range;
  range.set_start(start);
  range.set_end(length == 0 || length - 1 > kLockEnd - start ? kLockEnd : start + length - 1);
  range.set_type(TypeOf(lock.l_type));
  range.set_pid(static_cast<uint32_t>(lock.l_pid));
  return range;
}

void OnInterrupt(fuse_req_t, void* interrupt) { static_cast<WaitInterrupt*>(interrupt)->Interrupt(); }

// Locks are where processes on several hosts meet on one file (sqlite, mailboxes), so they
// carry the file's coherence, as NFS's do: before a lock goes, the master learns what this
// mount wrote (the data is on the chunkservers already; the size and mtime follow with
// WriteDone); once one is granted, this mount's kernel and location cache forget the file, so
// the holder reads what other mounts wrote under the lock before.
void BeforeUnlock(MountContext& context, fuse_file_info* fi) {
  OpenFile& file = *reinterpret_cast<FileHandle*>(fi->fh)->file;
  if (auto reported = context.writer.ReportWrites(file, /*closing=*/false); !reported) {
    LOG(WARNING) << "writes to inode " << file.inode << " not reported before an unlock: " << reported.error().ToString();
  }
}

void AfterLock(MountContext& context, fuse_ino_t ino, uint64_t inode) {
  context.locations.ForgetInode(inode);
  // Pages too (offset 0, length 0: all of them): the lock request holds no page lock.
  if (context.session != nullptr) fuse_lowlevel_notify_inval_inode(context.session, ino, 0, 0);
}

// A lock change; with `wait`, until granted or the caller is interrupted.
void ReplyToSet(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, const LockTarget& target,
                const wire::LockRange& range, bool wait) {
  MountContext& context = Context(req);
  LockClient& locks = context.locks;
  if (range.type() == wire::LOCK_TYPE_UNLOCK) BeforeUnlock(context, fi);
  Status status;
  if (!wait || range.type() == wire::LOCK_TYPE_UNLOCK) {
    status = locks.Set(target, range);
  } else {
    WaitInterrupt interrupt;
    fuse_req_interrupt_func(req, OnInterrupt, &interrupt);
    status = locks.SetAndWait(target, range, interrupt);
    // Takes the request's lock: no callback runs past this line, `interrupt` may go.
    fuse_req_interrupt_func(req, nullptr, nullptr);
  }
  if (status.ok() && range.type() != wire::LOCK_TYPE_UNLOCK) AfterLock(context, ino, target.inode);
  ReplyErrno(req, status.ok() ? 0 : status.error());
}

}  // namespace

void OpGetLk(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, struct flock* lock) {
  auto range = RangeOf(*lock);
  if (!range) return ReplyError(req, range.error());
  auto conflict = Context(req).locks.Test(TargetOf(req, ino, fi, wire::LOCK_KIND_POSIX), *range);
  if (!conflict) return ReplyError(req, conflict.error());
  struct flock answer = *lock;
  answer.l_type = F_UNLCK;
  if (*conflict) {
    const wire::LockRange& held = **conflict;
    answer.l_type = held.type() == wire::LOCK_TYPE_WRITE ? F_WRLCK : F_RDLCK;
    answer.l_whence = SEEK_SET;
    answer.l_start = static_cast<off_t>(held.start());
    answer.l_len = held.end() >= kLockEnd ? 0 : static_cast<off_t>(held.end() - held.start() + 1);
    answer.l_pid = static_cast<pid_t>(held.pid());
  }
  fuse_reply_lock(req, &answer);
}

void OpSetLk(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, struct flock* lock, int sleep) {
  auto range = RangeOf(*lock);
  if (!range) return ReplyError(req, range.error());
  ReplyToSet(req, ino, fi, TargetOf(req, ino, fi, wire::LOCK_KIND_POSIX), *range, sleep != 0);
}

void OpFlock(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, int op) {
  wire::LockRange range;  // the whole file: the master makes it so for flock locks
  range.set_end(kLockEnd);
  range.set_pid(static_cast<uint32_t>(fuse_req_ctx(req)->pid));
  int what = op & (LOCK_SH | LOCK_EX | LOCK_UN);
  if (what != LOCK_SH && what != LOCK_EX && what != LOCK_UN) return ReplyErrno(req, EINVAL);
  range.set_type(what == LOCK_SH   ? wire::LOCK_TYPE_READ
                 : what == LOCK_EX ? wire::LOCK_TYPE_WRITE
                                   : wire::LOCK_TYPE_UNLOCK);
  ReplyToSet(req, ino, fi, TargetOf(req, ino, fi, wire::LOCK_KIND_FLOCK), range, (op & LOCK_NB) == 0);
}

}  // namespace hafs::mount
