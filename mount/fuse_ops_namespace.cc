// FUSE operations on names and attributes; see fuse_ops.h.
#include <sys/statvfs.h>

#include <algorithm>

#include "common/block_checksum.h"
#include "common/log.h"
#include "mount/fuse_convert.h"
#include "mount/fuse_ops.h"

namespace hafs::mount {
namespace {

// Truncating to `size` (setattr): the chunk the new end falls inside is cut on every
// replica first (the master only drops whole chunks), then this mount's write state
// forgets what lies beyond, so a later WriteDone cannot grow the file back.
// `truncater` becomes the file's writer here: the master checks the chunk's lease against it.
Status TruncateChunks(MountContext& context, uint64_t inode, uint64_t size, const wire::Credentials& truncater) {
  std::shared_ptr<OpenFile> file = context.inodes.Open(inode);
  {
    std::lock_guard lock(file->mutex);
    file->writer = truncater;
  }
  Status status;
  uint64_t boundary_index = size / kChunkSize;
  if (size % kChunkSize != 0) {
    context.locations.ForgetChunk(inode, boundary_index);
    auto location = context.locations.Get(inode, boundary_index, truncater);
    if (!location) {
      status = location.error();
    } else if (location->chunk_id() != 0) {
      status = context.writer.TruncateChunk(*file, boundary_index, size % kChunkSize);
    }
  }
  if (status.ok()) {
    std::lock_guard lock(file->mutex);
    uint64_t first_dropped = (size + kChunkSize - 1) / kChunkSize;
    file->leases.erase(file->leases.lower_bound(first_dropped), file->leases.end());
    file->unsynced_chunks.erase(file->unsynced_chunks.lower_bound(first_dropped), file->unsynced_chunks.end());
    file->end_offset = std::min(file->end_offset, size);
  }
  CloseHere(context, inode);
  context.locations.ForgetInode(inode);
  return status;
}

}  // namespace

void OpLookup(fuse_req_t req, fuse_ino_t parent_ino, const char* name) {
  uint64_t parent = MasterInode(req, parent_ino);
  WriteBack::Answer local;
  LeaseLedger::Ticket local_ticket = Context(req).ledger.Take();
  switch (Context(req).write_back.Lookup(parent, name, CallerCredentials(req), &local)) {
    case WriteBack::Known::kAbsent: return ReplyEntry(req, local_ticket, LocalReply(nullptr, local.lease_ms), parent, name);
    case WriteBack::Known::kFound: return ReplyEntry(req, local_ticket, LocalReply(&local.attr, local.lease_ms), parent, name);
    case WriteBack::Known::kAsk: break;
  }
  wire::Envelope request;
  request.mutable_lookup()->set_parent(parent);
  request.mutable_lookup()->set_name(name);
  request.mutable_lookup()->set_negative_reply(true);
  *request.mutable_lookup()->mutable_credentials() = CallerCredentials(req);
  LeaseLedger::Ticket ticket = Context(req).ledger.Take();
  auto reply = Context(req).master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  ReplyEntry(req, ticket, *reply, parent, name);
}

void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Context(req).inodes.Forget(MasterInode(req, ino), nlookup);
  fuse_reply_none(req);
}

void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) Context(req).inodes.Forget(MasterInode(req, forgets[i].ino), forgets[i].nlookup);
  fuse_reply_none(req);
}

void OpGetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if (auto local = Context(req).write_back.GetAttr(MasterInode(req, ino))) {
    return ReplyAttr(req, Context(req).ledger.Take(), LocalReply(&local->attr, local->lease_ms));
  }
  wire::Envelope request;
  request.mutable_get_attr()->set_inode(MasterInode(req, ino));
  LeaseLedger::Ticket ticket = Context(req).ledger.Take();
  auto reply = Context(req).master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  ReplyAttr(req, ticket, *reply);
}

void OpSetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  MountContext& context = Context(req);
  uint64_t inode = MasterInode(req, ino);
  wire::Envelope request;
  wire::SetAttrRequest* set = request.mutable_set_attr();
  set->set_inode(inode);
  uint32_t valid = 0;
  if (to_set & FUSE_SET_ATTR_MODE) valid |= wire::SET_ATTR_MODE, set->set_mode(attr->st_mode);
  if (to_set & FUSE_SET_ATTR_UID) valid |= wire::SET_ATTR_UID, set->set_uid(attr->st_uid);
  if (to_set & FUSE_SET_ATTR_GID) valid |= wire::SET_ATTR_GID, set->set_gid(attr->st_gid);
  if (to_set & FUSE_SET_ATTR_SIZE) valid |= wire::SET_ATTR_SIZE, set->set_size(attr->st_size);
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
    valid |= wire::SET_ATTR_ATIME_NOW;
  } else if (to_set & FUSE_SET_ATTR_ATIME) {
    valid |= wire::SET_ATTR_ATIME, set->set_atime_ns(ToNs(attr->st_atim));
  }
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
    valid |= wire::SET_ATTR_MTIME_NOW;
  } else if (to_set & FUSE_SET_ATTR_MTIME) {
    valid |= wire::SET_ATTR_MTIME, set->set_mtime_ns(ToNs(attr->st_mtim));
  }
  if (to_set & FUSE_SET_ATTR_CTIME) valid |= wire::SET_ATTR_CTIME, set->set_ctime_ns(ToNs(attr->st_ctim));
  set->set_valid(valid);
  set->set_through_open_file(fi != nullptr);
  *set->mutable_credentials() = CallerCredentials(req);
  // Writes this mount made must reach the master first, or a later WriteDone would carry a
  // size from before the truncate, or the mtime of a write before a futimens (tar does that).
  if (to_set & (FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
    if (std::shared_ptr<OpenFile> file = context.inodes.FindOpen(inode)) {
      auto reported = context.writer.ReportWrites(*file, /*closing=*/false);
      if (!reported) return ReplyError(req, reported.error());
    }
  }
  if (to_set & FUSE_SET_ATTR_SIZE) {
    Status status = TruncateChunks(context, inode, attr->st_size, set->credentials());
    if (!status.ok()) return ReplyError(req, status);
  }
  LeaseLedger::Ticket ticket = context.ledger.Take();
  auto reply = context.master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  ReplyAttr(req, ticket, *reply);
}

void OpMknod(fuse_req_t req, fuse_ino_t parent_ino, const char* name, mode_t mode, dev_t rdev) {
  uint64_t parent = MasterInode(req, parent_ino);
  LeaseLedger::Ticket local_ticket = Context(req).ledger.Take();
  if (auto local = Context(req).write_back.Mknod(parent, name, mode, static_cast<uint32_t>(rdev), CallerCredentials(req), 0)) {
    return ReplyEntry(req, local_ticket, LocalReply(&local->attr, local->lease_ms), parent, name);
  }
  wire::Envelope request;
  wire::MknodRequest* mknod = request.mutable_mknod();
  mknod->set_parent(parent);
  mknod->set_name(name);
  mknod->set_mode(mode);
  mknod->set_rdev(static_cast<uint32_t>(rdev));
  mknod->set_exclusive(true);  // mknod(2) fails on an existing name
  *mknod->mutable_credentials() = CallerCredentials(req);
  LeaseLedger::Ticket ticket = Context(req).ledger.Take();
  auto reply = Context(req).master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  ReplyEntry(req, ticket, *reply, parent, name);
}

void OpMkdir(fuse_req_t req, fuse_ino_t parent_ino, const char* name, mode_t mode) {
  uint64_t parent = MasterInode(req, parent_ino);
  LeaseLedger::Ticket local_ticket = Context(req).ledger.Take();
  if (auto local = Context(req).write_back.Mkdir(parent, name, mode, CallerCredentials(req))) {
    return ReplyEntry(req, local_ticket, LocalReply(&local->attr, local->lease_ms), parent, name);
  }
  wire::Envelope request;
  wire::MkdirRequest* mkdir = request.mutable_mkdir();
  mkdir->set_parent(parent);
  mkdir->set_name(name);
  mkdir->set_mode(mode | S_IFDIR);
  *mkdir->mutable_credentials() = CallerCredentials(req);
  LeaseLedger::Ticket ticket = Context(req).ledger.Take();
  auto reply = Context(req).master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  ReplyEntry(req, ticket, *reply, parent, name);
}

void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  if (Context(req).write_back.Remove(MasterInode(req, parent), name, /*directory=*/false, CallerCredentials(req))) {
    return ReplyErrno(req, 0);
  }
  wire::Envelope request;
  request.mutable_unlink()->set_parent(MasterInode(req, parent));
  request.mutable_unlink()->set_name(name);
  *request.mutable_unlink()->mutable_credentials() = CallerCredentials(req);
  auto reply = Context(req).master.Call(std::move(request));
  ReplyErrno(req, reply ? 0 : reply.error().error());
}

void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  if (Context(req).write_back.Remove(MasterInode(req, parent), name, /*directory=*/true, CallerCredentials(req))) {
    return ReplyErrno(req, 0);
  }
  wire::Envelope request;
  request.mutable_rmdir()->set_parent(MasterInode(req, parent));
  request.mutable_rmdir()->set_name(name);
  *request.mutable_rmdir()->mutable_credentials() = CallerCredentials(req);
  auto reply = Context(req).master.Call(std::move(request));
  ReplyErrno(req, reply ? 0 : reply.error().error());
}

void OpRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent, const char* new_name,
              unsigned int flags) {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) {  // e.g. RENAME_WHITEOUT
    ReplyErrno(req, EINVAL);
    return;
  }
  wire::Envelope request;
  wire::RenameRequest* rename = request.mutable_rename();
  rename->set_parent(MasterInode(req, parent));
  rename->set_name(name);
  rename->set_new_parent(MasterInode(req, new_parent));
  rename->set_new_name(new_name);
  rename->set_flags(flags);
  *rename->mutable_credentials() = CallerCredentials(req);
  MountContext& context = Context(req);
  LeaseLedger::Ticket ticket = context.ledger.Take();
  uint64_t to_parent = rename->new_parent();
  Result<wire::Reply> reply = Fail(EIO, "");
  if (auto local = context.write_back.Rename(rename->parent(), name, to_parent, new_name, flags, rename->credentials())) {
    reply = LocalReply(&local->attr, local->lease_ms);
  } else {
    reply = context.master.Call(std::move(request));
  }
  if (!reply) return ReplyError(req, reply.error());
  // The kernel moves its entry into the new directory, cached as long as it was: the ledger
  // must know it there, under that directory's lease, or a takeover could not drop it.
  context.ledger.Reply(ticket, [&](const LeaseLedger::Timeouts& timeouts) {
    timeouts(CacheableOf(*reply, to_parent, new_name));
    ReplyErrno(req, 0);
  });
}

void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent_ino, const char* new_name) {
  uint64_t new_parent = MasterInode(req, new_parent_ino);
  wire::Envelope request;
  wire::LinkRequest* link = request.mutable_link();
  link->set_inode(MasterInode(req, ino));
  link->set_new_parent(new_parent);
  link->set_new_name(new_name);
  *link->mutable_credentials() = CallerCredentials(req);
  LeaseLedger::Ticket ticket = Context(req).ledger.Take();
  auto reply = Context(req).master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  ReplyEntry(req, ticket, *reply, new_parent, new_name);
}

void OpSymlink(fuse_req_t req, const char* target, fuse_ino_t parent_ino, const char* name) {
  uint64_t parent = MasterInode(req, parent_ino);
  LeaseLedger::Ticket local_ticket = Context(req).ledger.Take();
  if (auto local = Context(req).write_back.Symlink(parent, name, target, CallerCredentials(req))) {
    return ReplyEntry(req, local_ticket, LocalReply(&local->attr, local->lease_ms), parent, name);
  }
  wire::Envelope request;
  wire::SymlinkRequest* symlink = request.mutable_symlink();
  symlink->set_parent(parent);
  symlink->set_name(name);
  symlink->set_target(target);
  *symlink->mutable_credentials() = CallerCredentials(req);
  LeaseLedger::Ticket ticket = Context(req).ledger.Take();
  auto reply = Context(req).master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  ReplyEntry(req, ticket, *reply, parent, name);
}

void OpReadlink(fuse_req_t req, fuse_ino_t ino) {
  wire::Envelope request;
  request.mutable_readlink()->set_inode(MasterInode(req, ino));
  auto reply = Context(req).master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  fuse_reply_readlink(req, reply->link_target().c_str());
}

void OpStatFs(fuse_req_t req, fuse_ino_t ino) {
  wire::Envelope request;
  request.mutable_stat_fs();
  auto reply = Context(req).master.Call(std::move(request));
  if (!reply) return ReplyError(req, reply.error());
  // Free inodes are not limited by hafs; report plenty so df -i and installers are happy.
  constexpr uint64_t kFreeInodes = 1ULL << 30;
  struct statvfs stats{};
  stats.f_bsize = kBlockSize;
  stats.f_frsize = kBlockSize;
  stats.f_blocks = reply->total_bytes() / kBlockSize;
  // As the chunkservers' disks have it: blocks reserved for root are free, not available,
  // so df's Use% matches theirs.
  stats.f_bfree = (reply->free_bytes() + reply->reserved_bytes()) / kBlockSize;
  stats.f_bavail = reply->free_bytes() / kBlockSize;
  stats.f_files = reply->inode_count() + kFreeInodes;
  stats.f_ffree = kFreeInodes;
  stats.f_favail = kFreeInodes;
  stats.f_namemax = 255;
  fuse_reply_statfs(req, &stats);
}

}  // namespace hafs::mount
