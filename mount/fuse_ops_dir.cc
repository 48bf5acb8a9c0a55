// FUSE operations on directories; see fuse_ops.h and dir_snapshot.h.
#include <vector>

#include "mount/file_handle.h"
#include "mount/fuse_convert.h"
#include "mount/fuse_ops.h"

namespace hafs::mount {
namespace {

constexpr uint32_t kReadDirPageEntries = 1000;

DirHandle& Handle(fuse_file_info* fi) { return *reinterpret_cast<DirHandle*>(fi->fh); }

// Fills one reply buffer from the snapshot starting at `offset`; with `plus`, entries
// carry attributes and count as lookups (except "." and "..", which the kernel skips).
void ReplyEntries(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi, bool plus) {
  MountContext& context = Context(req);
  uint64_t directory = MasterInode(req, ino);
  const DirHandle& handle = Handle(fi);
  const DirSnapshot& snapshot = handle.snapshot;
  std::vector<char> buffer(size);
  size_t used = 0;
  // Under the ledger's guard: a recall since the listing makes its entries uncacheable.
  context.ledger.Reply(handle.ticket, [&](const LeaseLedger::Timeouts& timeouts) {
    for (size_t index = offset; index < snapshot.size(); ++index) {
      const wire::DirEntry& entry = snapshot.entry(index);
      wire::Attr attr = entry.attr();
      off_t next_offset = static_cast<off_t>(index + 1);
      size_t entry_size;
      if (plus) {
        fuse_entry_param param{};
        if (DirSnapshot::IsDotOrDotDot(index)) {
          param.attr = ToStat(context, attr);  // ino 0: no lookup
        } else {
          ObserveAttr(context, &attr);
          LeaseLedger::Cacheable cacheable{directory, entry.name(), snapshot.entry_lease_ms(), attr.inode(),
                                           snapshot.attr_lease_ms()};
          param = ToEntry(context, attr, timeouts(cacheable));
        }
        entry_size = fuse_add_direntry_plus(req, buffer.data() + used, size - used, entry.name().c_str(), &param,
                                            next_offset);
        if (entry_size <= size - used && param.ino != 0) context.inodes.ObserveEntry(&attr, directory);
      } else {
        struct stat st = ToStat(context, attr);
        entry_size = fuse_add_direntry(req, buffer.data() + used, size - used, entry.name().c_str(), &st, next_offset);
      }
      if (entry_size > size - used) break;  // full: the kernel asks again from next_offset
      used += entry_size;
    }
    fuse_reply_buf(req, buffer.data(), used);
  });
}

}  // namespace

void OpOpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  MountContext& context = Context(req);
  uint64_t directory = MasterInode(req, ino);
  // Every page carries the opener's credentials: the master checks read permission on
  // the directory, as an open(O_DIRECTORY) would.
  wire::Credentials credentials = CallerCredentials(req);
  auto read_page = [&](const std::string& after_name) {
    wire::Envelope request;
    wire::ReadDirRequest* read_dir = request.mutable_read_dir();
    read_dir->set_inode(directory);
    read_dir->set_after_name(after_name);
    read_dir->set_max_entries(kReadDirPageEntries);
    *read_dir->mutable_credentials() = credentials;
    return context.master.Call(std::move(request));
  };
  LeaseLedger::Ticket ticket = context.ledger.Take();
  auto snapshot = DirSnapshot::Take(directory, context.inodes.Parent(directory), read_page);
  if (!snapshot) return ReplyError(req, snapshot.error());
  auto* handle = new DirHandle{std::move(*snapshot), ticket};
  fi->fh = reinterpret_cast<uint64_t>(handle);
  if (fuse_reply_open(req, fi) != 0) delete handle;
}

void OpReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi) {
  ReplyEntries(req, ino, size, offset, fi, /*plus=*/false);
}

void OpReadDirPlus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi) {
  ReplyEntries(req, ino, size, offset, fi, /*plus=*/true);
}

// A directory's durability point: every namespace change this mount wrote back is on both
// masters, and a refused one in this directory is reported.
void OpFsyncDir(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
  Status status = Context(req).write_back.Flush(MasterInode(req, ino));
  ReplyErrno(req, status.ok() ? 0 : status.error());
}

void OpReleaseDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  delete &Handle(fi);
  fuse_reply_err(req, 0);
}

}  // namespace hafs::mount
