// fallocate(2) on a hafs mount (docs/design.md, "fallocate"): mode 0 and
// FALLOC_FL_KEEP_SIZE reserve space, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE frees it.
// The master does the namespace's part (size, reserved end, chunks dropped whole) and
// this mount the chunkservers' part, under write leases as a write or a truncate does:
// the chunks of a reserved range exist and are long enough on every replica afterwards,
// and the pieces of a hole in chunks that stay are zeroed on every replica.
#include <linux/falloc.h>

#include <algorithm>

#include "common/block_checksum.h"
#include "common/clock.h"
#include "common/fallocate_range.h"
#include "mount/chunk_range.h"
#include "mount/file_handle.h"
#include "mount/fuse_convert.h"
#include "mount/fuse_ops.h"

namespace hafs::mount {
namespace {

// The master's name for a kernel mode; EOPNOTSUPP for what hafs does not do (collapse,
// insert and zero range, a punch without KEEP_SIZE, which Linux refuses too).
Result<wire::FallocateMode> WireMode(int mode) {
  switch (mode) {
    case 0:
      return wire::FALLOCATE_RESERVE;
    case FALLOC_FL_KEEP_SIZE:
      return wire::FALLOCATE_KEEP_SIZE;
    case FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE:
      return wire::FALLOCATE_PUNCH_HOLE;
    default:
      return Fail(EOPNOTSUPP, "fallocate mode " + std::to_string(mode) + " is not supported");
  }
}

// The master's part; the file's attributes afterwards.
Result<wire::Attr> TellMaster(MountContext& context, const FileHandle& handle, wire::FallocateMode mode,
                              uint64_t offset, uint64_t length) {
  wire::Envelope request;
  wire::FallocateRequest* fallocate = request.mutable_fallocate();
  fallocate->set_inode(handle.inode);
  fallocate->set_offset(offset);
  fallocate->set_length(length);
  fallocate->set_mode(mode);
  fallocate->set_mtime_ns(WallClockNs());
  *fallocate->mutable_credentials() = handle.opener;
  auto reply = context.master.Call(std::move(request));
  if (!reply) return Fail(reply.error());
  return reply->attr();
}

// Every chunk of the range exists on its replicas afterwards, at least as long as the
// range reaches into it: a hole gets a new chunk through its write lease.
Status ReserveChunks(MountContext& context, OpenFile& file, uint64_t offset, uint64_t length) {
  for (const ChunkPiece& piece : SplitIntoChunks(offset, length, kChunkSize)) {
    Status status =
        context.writer.FallocateChunk(file, piece.chunk_index, piece.offset_in_chunk, piece.length, /*punch=*/false);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

// The master dropped chunks [first_dropped, end_dropped): a cached lease names a chunk
// that is gone, so the next write there must ask for a new one.
void ForgetDroppedChunks(MountContext& context, OpenFile& file, const PunchPlan& plan) {
  {
    std::lock_guard lock(file.mutex);
    file.leases.erase(file.leases.lower_bound(plan.first_dropped), file.leases.lower_bound(plan.end_dropped));
    file.unsynced_chunks.erase(file.unsynced_chunks.lower_bound(plan.first_dropped),
                               file.unsynced_chunks.lower_bound(plan.end_dropped));
  }
  context.locations.ForgetInode(file.inode);
}

// Zeroes the hole's pieces in chunks that stay; a piece in a hole (no chunk) is zeros already.
Status ZeroPieces(MountContext& context, const FileHandle& handle, const PunchPlan& plan) {
  for (const ChunkSpan& span : plan.zeroed) {
    auto location = context.locations.Get(handle.inode, span.chunk_index, handle.opener);
    if (!location) return location.error();
    if (location->chunk_id() == 0) continue;
    Status status = context.writer.FallocateChunk(*handle.file, span.chunk_index, span.offset, span.length,
                                                  /*punch=*/true);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace

void OpFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, fuse_file_info* fi) {
  MountContext& context = Context(req);
  const FileHandle& handle = *reinterpret_cast<FileHandle*>(fi->fh);
  auto wire_mode = WireMode(mode);
  if (!wire_mode) return ReplyError(req, wire_mode.error());
  if (offset < 0 || length <= 0) return ReplyErrno(req, EINVAL);
  if (Status range = CheckFallocateRange(offset, length); !range.ok()) return ReplyError(req, range);
  // This mount's writes first: mode 0 grows the size the master knows, a hole is planned on it.
  auto reported = context.writer.ReportWrites(*handle.file, /*closing=*/false);
  if (!reported) return ReplyError(req, reported.error());
  // The master first: permissions, bounds and free space are checked before any chunk is made.
  auto attr = TellMaster(context, handle, *wire_mode, offset, length);
  if (!attr) return ReplyError(req, attr.error());
  Status status;
  if (*wire_mode == wire::FALLOCATE_PUNCH_HOLE) {
    PunchPlan plan = PlanPunch(offset, length, std::max(attr->size(), attr->reserved_end()));
    ForgetDroppedChunks(context, *handle.file, plan);
    status = ZeroPieces(context, handle, plan);
  } else {
    status = ReserveChunks(context, *handle.file, offset, length);
  }
  ObserveAttr(context, &*attr);
  ReplyErrno(req, status.ok() ? 0 : status.error());
}

}  // namespace hafs::mount
