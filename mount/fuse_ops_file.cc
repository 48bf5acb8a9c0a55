// FUSE operations on open files; see fuse_ops.h.
#include <fcntl.h>

#include "common/clock.h"
#include "common/log.h"
#include "mount/file_handle.h"
#include "mount/fuse_convert.h"
#include "mount/fuse_ops.h"
#include "mount/mount_metrics.h"
#include "mount/squash.h"

namespace hafs::mount {
namespace {

FileHandle& Handle(fuse_file_info* fi) { return *reinterpret_cast<FileHandle*>(fi->fh); }

// The handle of an open by the caller of `req` of the inode whose write state is `file`; the
// master checks this open's data requests against the caller's credentials, and an open for
// writing makes the caller the file's writer.
void AttachHandle(fuse_req_t req, uint64_t inode, std::shared_ptr<OpenFile> file, fuse_file_info* fi) {
  auto* handle = new FileHandle{inode, fi->flags, std::move(file), CallerCredentials(req)};
  if ((fi->flags & O_ACCMODE) != O_RDONLY) {
    std::lock_guard lock(handle->file->mutex);
    handle->file->writer = handle->opener;
  }
  fi->fh = reinterpret_cast<uint64_t>(handle);
}

// An open that the kernel will not release (the master refused it, or the kernel did not
// take the reply).
void Unopen(MountContext& context, fuse_file_info* fi, uint64_t inode) {
  CloseHere(context, inode);
  if (fi->fh != 0) delete &Handle(fi);
}

// What flush, fsync and release share: optionally make the written chunks durable,
// then tell the master the new size and mtime (and, closing, hand back the leases).
Status SyncAndReport(MountContext& context, OpenFile& file, bool sync, bool closing) {
  if (sync) {
    Status status = context.writer.Sync(file);
    if (!status.ok()) return status;
  }
  auto reported = context.writer.ReportWrites(file, closing);
  if (!reported) return reported.error();
  if (!*reported) return Status::Ok();
  int64_t last_write_ns;
  {
    std::lock_guard lock(file.mutex);
    last_write_ns = file.mtime_ns;
  }
  // The master's answer to this mount's own report (the mtime of its last write): nothing it
  // caches changed (the chunk locations its write leases told it stay). Another's write since
  // drops them, as any change by someone else does.
  if ((*reported)->mtime_ns() == last_write_ns) {
    context.inodes.ObserveOwn(&**reported);
  } else {
    ObserveAttr(context, &**reported);
  }
  return Status::Ok();
}

// Write-back namespace changes (write_back.h) at a file's durability point: every change of
// this mount on both masters when `sync`, and in any case a refusal of one of this file's
// changes reported.
Status MetadataDurable(MountContext& context, uint64_t inode, bool sync) {
  return sync ? context.write_back.Flush(inode) : context.write_back.TakeError(inode);
}

// Where a write through an O_APPEND descriptor goes (docs/design.md, "Appends"): the end of
// the file as the whole cluster has it, reserved at the master for these bytes alone. This
// mount's writes the master has not heard of are reported first, so that the end counts them.
Result<uint64_t> ReserveAppend(MountContext& context, const FileHandle& handle, size_t size) {
  if (Status reported = SyncAndReport(context, *handle.file, /*sync=*/false, /*closing=*/false); !reported.ok()) {
    return Fail(reported);
  }
  wire::Envelope request;
  wire::AppendRequest* append = request.mutable_append();
  append->set_inode(handle.inode);
  append->set_length(size);
  append->set_mtime_ns(WallClockNs());
  *append->mutable_credentials() = handle.opener;
  auto reply = context.master.Call(std::move(request));
  if (!reply) return Fail(reply.error());
  wire::Attr attr = reply->attr();
  context.inodes.ObserveOwn(&attr);
  return reply->append_offset();
}

// Whether the handle being closed is the inode's last here: its close hands the leases
// back (another handle's writes would only take them again, bumping versions).
bool LastHandle(MountContext& context, const FileHandle& handle) { return context.inodes.Opens(handle.inode) <= 1; }

}  // namespace

void OpCreate(fuse_req_t req, fuse_ino_t parent_ino, const char* name, mode_t mode, fuse_file_info* fi) {
  MountContext& context = Context(req);
  uint64_t parent = MasterInode(req, parent_ino);
  wire::Envelope request;
  wire::MknodRequest* mknod = request.mutable_mknod();
  mknod->set_parent(parent);
  mknod->set_name(name);
  mknod->set_mode(mode);
  mknod->set_exclusive((fi->flags & O_EXCL) != 0);
  mknod->set_open_generation(context.inodes.NextGeneration());
  *mknod->mutable_credentials() = CallerCredentials(req);
  LeaseLedger::Ticket ticket = context.ledger.Take();
  Result<wire::Reply> reply = Fail(EIO, "");
  if (auto local = context.write_back.Mknod(parent, name, mode, 0, mknod->credentials(), mknod->open_generation())) {
    reply = LocalReply(&local->attr, local->lease_ms);
  } else {
    reply = context.master.Call(std::move(request));
  }
  if (!reply) return ReplyError(req, reply.error());
  wire::Attr attr = reply->attr();
  context.inodes.ObserveEntry(&attr, parent);
  context.inodes.TakeChangedSinceOpen(attr.inode());  // this is its first open here
  fi->direct_io = (fi->flags & O_APPEND) != 0;  // see OpOpen
  AttachHandle(req, attr.inode(), context.inodes.Open(attr.inode()), fi);
  context.ledger.Reply(ticket, [&](const LeaseLedger::Timeouts& timeouts) {
    fuse_entry_param entry = ToEntry(context, attr, timeouts(CacheableOf(*reply, parent, name)));
    // The kernel will not send release for a handle it never got.
    if (fuse_reply_create(req, &entry, fi) != 0) Unopen(context, fi, attr.inode());
  });
}

// Close-to-open consistency: the attributes are fetched fresh from the master; if
// another client changed the file since this mount last looked, the kernel's cached
// attributes are invalidated and its page cache is not kept for this open.
void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  MountContext& context = Context(req);
  uint64_t inode = MasterInode(req, ino);
  // Counted open here before the master holds it: a close that races this open cannot be
  // this mount's last, so the master never hears a close after this open's hold.
  uint64_t generation = 0;
  std::shared_ptr<OpenFile> file = context.inodes.Open(inode, &generation);
  fi->fh = 0;
  wire::Envelope request;
  request.mutable_get_attr()->set_inode(inode);
  request.mutable_get_attr()->set_open_generation(generation);
  Result<wire::Reply> reply = Fail(EIO, "");
  if (std::optional<wire::Attr> local = context.write_back.Open(inode, generation)) {
    reply = LocalReply(&*local, 0);  // a file made here: nobody else has changed it
  } else {
    reply = context.master.Call(std::move(request));
  }
  if (!reply) {
    Unopen(context, fi, inode);
    return ReplyError(req, reply.error());
  }
  wire::Attr attr = reply->attr();
  if (!SquashedMayOpen(context.mounted_export.squashing, fuse_req_ctx(req)->uid, attr, fi->flags)) {
    Unopen(context, fi, inode);
    return ReplyError(req, Status::Error(EACCES, "the export squashes this caller, who may not open it so"));
  }
  // Changed since this mount last looked, here or at a lookup since the last open.
  bool changed = context.inodes.Observe(&attr);
  changed = context.inodes.TakeChangedSinceOpen(inode) || changed;
  if (changed) {
    context.locations.ForgetInode(inode);
    // Attributes only (offset < 0): no page locks taken, so this cannot deadlock with
    // the open the kernel is waiting on; keep_cache = 0 below drops the pages.
    if (context.session != nullptr) fuse_lowlevel_notify_inval_inode(context.session, ino, -1, 0);
  }
  fi->keep_cache = changed ? 0 : 1;
  // Appends land where the master says, not at the kernel's offset: kept out of the page
  // cache, which would hold them at the kernel's.
  fi->direct_io = (fi->flags & O_APPEND) != 0;
  AttachHandle(req, inode, std::move(file), fi);
  if (fuse_reply_open(req, fi) != 0) Unopen(context, fi, inode);
}

void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi) {
  MountContext& context = Context(req);
  if (Status out = context.writer.WriteOutBeforeRead(*Handle(fi).file, offset, size); !out.ok()) {
    return ReplyError(req, out);
  }
  // Reads past the end of the file return zeros here; the kernel stops at its i_size.
  auto data = context.reader.Read(MasterInode(req, ino), offset, size, Handle(fi).opener);
  if (!data) return ReplyError(req, data.error());
  Metrics().read_bytes.Increment(data->size());
  fuse_reply_buf(req, data->data(), data->size());
}

void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  MountContext& context = Context(req);
  FileHandle& handle = Handle(fi);
  bool appending = (handle.open_flags & O_APPEND) != 0;
  if (appending) {
    // The kernel's offset is its idea of the end, which another mount's appends make stale.
    auto reserved = ReserveAppend(context, handle, size);
    if (!reserved) return ReplyError(req, reserved.error());
    offset = static_cast<off_t>(*reserved);
  }
  // Held back unless the caller asked for each write to be out (O_DIRECT, O_SYNC, O_DSYNC)
  // or it appends (its place was reserved at the master, and the size reported with it).
  bool may_hold = !appending && (handle.open_flags & (O_DIRECT | O_DSYNC)) == 0;
  Status status = context.writer.Write(*handle.file, offset, std::string_view(buf, size), may_hold);
  if (!status.ok()) return ReplyError(req, status);
  if (appending) {
    // The reservation told the master the new end and mtime already: no WriteDone for it,
    // unless another write here went past it.
    std::lock_guard lock(handle.file->mutex);
    if (handle.file->end_offset <= static_cast<uint64_t>(offset) + size) handle.file->unreported = false;
  }
  Metrics().written_bytes.Increment(size);
  fuse_reply_write(req, size);
}

void OpFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  MountContext& context = Context(req);
  FileHandle& handle = Handle(fi);
  Status status = SyncAndReport(context, *handle.file, context.options.fsync_on_close, LastHandle(context, handle));
  if (status.ok()) status = MetadataDurable(context, handle.inode, context.options.fsync_on_close);
  // Any close by a process ends its POSIX locks on the file, after what it wrote is reported.
  context.locks.ReleaseOwner(handle.inode, fi->lock_owner);
  ReplyErrno(req, status.ok() ? 0 : status.error());
}

void OpFsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
  Status status = SyncAndReport(Context(req), *Handle(fi).file, /*sync=*/true, /*closing=*/false);
  if (status.ok()) status = MetadataDurable(Context(req), Handle(fi).inode, /*sync=*/true);
  ReplyErrno(req, status.ok() ? 0 : status.error());
}

void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  MountContext& context = Context(req);
  FileHandle* handle = &Handle(fi);
  // flush normally reported everything already; this catches writes after the last
  // flush (e.g. through mmap).
  Status status = SyncAndReport(context, *handle->file, context.options.fsync_on_close, LastHandle(context, *handle));
  if (!status.ok()) {
    LOG(WARNING) << "release of inode " << handle->inode << ": " << status.ToString();
  }
  // The open file description is gone: its flock and OFD locks end.
  context.locks.ReleaseHandle(handle->inode, fi->fh);
  CloseHere(context, handle->inode);
  delete handle;
  ReplyErrno(req, status.ok() ? 0 : status.error());
}

}  // namespace hafs::mount
